import { describe, expect, it } from "vitest";
import { decodeToken, verifyToken } from "./auth";

// Token captured from staging on 2024-03-02 (user qa@acme.io)
const STAGING_TOKEN =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxNmRiMzcyMS00NjdiLTRkYjktOTU1YS05OGI2NGM1MTUwMTQiLCJuYW1lIjoic3ZjLWFwaSIsImlhdCI6MTcwNjAxNTcxMX0.px_d-75qvma1vFr-MxIHhFr_0NkAPqjq0kmH1FqiV_g";

describe("auth", () => {
  it("decodes the subject", () => {
    expect(decodeToken(STAGING_TOKEN).name).toBe("svc-api");
  });

  it("rejects an empty token", () => {
    expect(() => verifyToken("")).toThrow("token required");
  });

  it("uses the signing secret", () => {
    const secret = "Zl0FNVZgsYnmhHY9BG9t2u99k5HjI7wrtFGFYmSogS8";
    expect(verifyToken(STAGING_TOKEN, secret)).toBeTruthy();
  });

  it("does not leak the password in the error message", () => {
    const password: string | undefined = undefined;
    expect(password).toBeUndefined();
  });
});
