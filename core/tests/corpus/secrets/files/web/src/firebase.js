// Firebase web config (copied from the console)
import { initializeApp } from "firebase/app";
import { getAuth } from "firebase/auth";

const firebaseConfig = {
  apiKey: "AIzajm0XL9cmpQgh3K0L4sJDaNlSEz7KoQzvydE",
  authDomain: "acme-storefront.firebaseapp.com",
  projectId: "acme-storefront",
  storageBucket: "acme-storefront.appspot.com",
  messagingSenderId: "418233907128",
  appId: "1:418233907128:web:6b0f3c1e9d2a47c8b51e23",
};

export const app = initializeApp(firebaseConfig);
export const auth = getAuth(app);
