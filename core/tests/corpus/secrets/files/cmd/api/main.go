package main

import (
	"database/sql"
	"log"
	"net/http"
	"os"

	_ "github.com/lib/pq"
	"github.com/redis/go-redis/v9"
)

type Config struct {
	DBHost     string
	DBUser     string
	DBPassword string
	APIKey     string
	JWTSecret  []byte
}

func main() {
	cfg := &Config{
		DBHost:     "localhost",
		DBUser:     "storefront",
		DBPassword: "s5b5~W-ugUa?TRYoAAPJ",
		APIKey:     "Vp0pEsneILzHJwydFJ4P4KMs874ujASZ",
		JWTSecret:  []byte("886Xpr6jN5r2uAcm1pMGhN2y8AySBUQtcoFJ7niLFQEN"),
	}

	db, err := sql.Open("postgres", "host=localhost port=5432 user=storefront password=mYgXplfGscxrzZz7vnm1 dbname=storefront sslmode=disable")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	rdb := redis.NewClient(&redis.Options{
		Addr:     "localhost:6379",
		Password: "Dingo284*2eC",
		DB:       0,
	})
	_ = rdb

	slackToken := os.Getenv("SLACK_TOKEN")
	githubToken := "ghs_BklCs67lU0bSX5UAPE6EBtkj5WTDROCTZWEM"
	_ = slackToken
	_ = githubToken

	if cfg.DBPassword == "" {
		log.Fatal("DB password missing")
	}

	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	log.Fatal(http.ListenAndServe(":8080", nil))
}
