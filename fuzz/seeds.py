#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/: real-shaped JWTs, Codex auth.json files,
state.json files, SSE answer streams, config files, tool arguments and callback queries.
Deterministic; run it again after changing it:  python3 fuzz/seeds.py"""
import base64, json, os, shutil, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
AUTH = "https://api.openai.com/auth"
PROFILE = "https://api.openai.com/profile"


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(payload, header=None):
    header = header or {"alg": "RS256", "kid": "b1a8", "typ": "JWT"}
    return ".".join([b64(json.dumps(header, separators=(",", ":")).encode()),
                     b64(json.dumps(payload, separators=(",", ":")).encode()),
                     b64(bytes(range(64)))])


ID = {"aud": ["app_EMoamEEZ73f0CkXaXp7hrann"], "email": "ada@example.com", "email_verified": True,
      "exp": 1900000000, "iat": 1899996400, "iss": "https://auth.openai.com",
      AUTH: {"chatgpt_account_id": "0f5c2a3e-8d1b-4c55-9a77-3e4f5a6b7c8d", "chatgpt_plan_type": "plus",
             "chatgpt_user_id": "user-AbCdEf123456", "organization_id": "org-XyZ789",
             "groups": [], "organizations": [{"id": "org-XyZ789", "is_default": True, "role": "owner"}]},
      "sub": "google-oauth2|1234567890"}
ACCESS = {"aud": ["https://api.openai.com/v1"], "client_id": "app_EMoamEEZ73f0CkXaXp7hrann",
          "exp": 1900864000, "iat": 1900000000, "iss": "https://auth.openai.com", "scp": ["openid", "profile", "email", "offline_access"],
          AUTH: {"chatgpt_account_id": "0f5c2a3e-8d1b-4c55-9a77-3e4f5a6b7c8d", "chatgpt_plan_type": "pro", "user_id": "user-AbCdEf123456"},
          PROFILE: {"email": "ada@example.com", "email_verified": True}}


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def jwt_seeds():
    # Mode byte: even = the text is the token, odd = the rest is the payload JSON.
    tokens = {
        "id_token": jwt(ID), "access_token": jwt(ACCESS),
        "float_exp": jwt({"exp": 1.9e9, "email": "b@example.com"}),
        "no_exp_profile_email": jwt({PROFILE: {"email": "c@example.com"}, AUTH: {"chatgpt_plan_type": "team"}}),
        "padded": jwt(ID) .replace(".", "==.", 1),
        "four_parts": jwt(ID) + ".x",
        "exp_string": jwt({"exp": "soon"}),
    }
    for name, t in tokens.items():
        write("jwt_claims", name, b"\x00" + t.encode())
    for name, p in {"payload_id": ID, "payload_access": ACCESS, "payload_huge_exp": {"exp": 1e300},
                    "payload_neg_exp": {"exp": -62135596801}, "payload_array": [1, 2]}.items():
        write("jwt_claims", name, b"\x01" + json.dumps(p).encode())


def auth_seeds():
    rec = {"auth_mode": "chatgpt", "OPENAI_API_KEY": None,
           "tokens": {"id_token": jwt(ID), "access_token": jwt(ACCESS),
                      "refresh_token": "rt_" + "Zk3vQ9" * 8, "account_id": "0f5c2a3e-8d1b-4c55-9a77-3e4f5a6b7c8d"},
           "last_refresh": "2026-05-01T12:34:56.789012345Z"}
    write("auth_record", "codex_cli_chatgpt", json.dumps(rec, indent=2))
    old = dict(rec); del old["auth_mode"]; old["future_field"] = {"x": [1, 2.5, None]}
    old["tokens"] = dict(rec["tokens"], extra_token_field="kept")
    write("auth_record", "codex_cli_old_no_mode", json.dumps(old))
    write("auth_record", "api_key", json.dumps({"OPENAI_API_KEY": "sk-proj-" + "a1B2c3D4" * 6}))
    write("auth_record", "api_key_mode", json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-abcdef0123456789"}))
    write("auth_record", "empty_token", json.dumps({"auth_mode": "chatgpt", "tokens": {"id_token": "", "access_token": "a", "refresh_token": "r"}}))
    write("auth_record", "offset_time", json.dumps(dict(rec, last_refresh="2026-05-01T14:34:56+02:00")))


def state_seeds():
    st = {"generation": 7, "signed_in": True, "auth_mode": "chatgpt", "backend": "keyring",
          "location": "codex-oauth/default", "email": "ada@example.com", "plan": "plus",
          "account_id": "0f5c2a3e-8d1b-4c55-9a77-3e4f5a6b7c8d", "user_id": "user-AbCdEf123456",
          "expires_at": "2030-03-17T17:46:40Z", "last_refresh": "2026-05-01T12:34:56.789Z",
          "rate_limits": {"primary": {"used_percent": 12.5, "window_minutes": 300, "resets_at": 1900000000},
                          "secondary": {"used_percent": 3.0, "window_minutes": 10080}, "credits": None},
          "updated_at": "2026-05-01T12:34:57Z"}
    write("state_json", "signed_in", json.dumps(st, indent=2))
    write("state_json", "file_fallback", json.dumps({"generation": 2, "signed_in": True, "backend": "file",
          "location": "/home/ada/.local/share/codex-oauth/default/auth.json",
          "backend_reason": "keychain unavailable: no Secret Service", "future": [1, {"a": "b"}]}))
    write("state_json", "pending_login", json.dumps({"generation": 3, "pending_login": {
          "method": "device", "url": "https://auth.openai.com/codex/device", "user_code": "ABCD-EFGH",
          "started_at": "2026-05-01T12:00:00Z", "expires_at": "2026-05-01T12:15:00Z", "pid": 4242}}))
    write("state_json", "signed_out_error", json.dumps({"generation": 9, "signed_in": False,
          "last_error": "session expired: sign in again (refresh_token_reused)"}))
    write("state_json", "empty", "{}")


def sse_event(ev):
    return f"event: {ev['type']}\ndata: {json.dumps(ev)}\n\n"


def sse_seeds():
    happy = [
        {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}},
        {"type": "response.output_item.added", "item": {"type": "message", "role": "assistant"}},
        {"type": "response.output_text.delta", "delta": "Hel"},
        {"type": "response.output_text.delta", "delta": "lo, w\u00f6rld \u2713"},
        {"type": "response.output_item.done", "item": {"type": "message", "content": [{"type": "output_text", "text": "Hello, w\u00f6rld \u2713"}]}},
        {"type": "response.completed", "response": {"id": "resp_1", "usage": {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}}},
    ]
    text = "".join(sse_event(e) for e in happy)
    # First byte: how many chunk sizes follow; then the sizes (each + 1); then the stream.
    write("sse", "happy_whole", b"\x00" + text.encode())
    write("sse", "happy_chunks_1_3_7", b"\x03\x00\x02\x06" + text.encode())
    write("sse", "happy_crlf_comment", b"\x01\x04" + (": keep-alive\r\n\r\n" + text.replace("\n", "\r\n")).encode())
    write("sse", "bom", b"\x02\x00\x01" + "\ufeff".encode() + text.encode())
    write("sse", "failed", b"\x00" + (sse_event({"type": "response.created"}) + sse_event({"type": "response.failed", "response": {"error": {"code": "usage_limit_reached", "message": "limit", "resets_at": 1900000000, "plan_type": "plus"}}})).encode())
    write("sse", "error_event", b"\x00data: {\"type\":\"error\",\"code\":\"invalid_prompt\",\"message\":\"no\"}\n\n")
    write("sse", "incomplete", b"\x00" + (sse_event({"type": "response.output_text.delta", "delta": "part"}) + sse_event({"type": "response.incomplete", "response": {"id": "r", "incomplete_details": {"reason": "max_output_tokens"}}})).encode())
    write("sse", "items_only", b"\x00" + "".join(sse_event(e) for e in [happy[4], {"type": "response.completed", "response": {"id": "r"}}]).encode())
    write("sse", "junk_then_done", b"\x00data: not json\n\ndata: [DONE]\n\nid: 1\nretry: 10\n\n" + sse_event(happy[2]).encode())
    write("sse", "cut_short", b"\x01\x0f" + text[: len(text) // 2].encode())


def config_seeds():
    # The input is decoded by `arbitrary` (Option<String>, Vec<(u8, String)>): the seeds are the
    # config text and variables as arbitrary lays them out for a take_rest decoding of short data.
    def arb(file, variables):
        out = bytearray()
        # arbitrary 1.x: Option = a bool byte; String = a length-prefixed run (u32 LE, by
        # `arbitrary_byte_size` for the non-last fields); a Vec continues while a byte says so.
        if file is None:
            out += b"\x00"
        else:
            b = file.encode()
            out += b"\x01" + struct.pack("<I", len(b)) + b
        for idx, val in variables:
            v = val.encode()
            out += b"\x01" + bytes([idx]) + struct.pack("<I", len(v)) + v
        out += b"\x00"
        return bytes(out)
    full = 'store = "file"\nprofile = "work"\nissuer = "https://auth.openai.com"\nclient_id = "app_EMoamEEZ73f0CkXaXp7hrann"\napi_base = "https://chatgpt.com/backend-api/codex"\nusage_url = "https://chatgpt.com/backend-api/wham/usage"\nopenai_api_base = "https://api.openai.com/v1"\ncallback_port = 1455\nopen_browser = false\n'
    write("config", "full_file", arb(full, []))
    write("config", "loopback_file_env_profile", arb('issuer = "http://127.0.0.1:8080/"\napi_base = "http://[::1]:9/x/"\n', [(1, "play"), (8, "1")]))
    write("config", "env_only", arb(None, [(0, "keychain"), (7, "1999"), (2, "https://auth.example.com/base")]))
    write("config", "bad_key", arb('stoer = "file"\n', []))
    write("config", "bad_toml", arb("this is not toml [", []))
    write("config", "plain_http", arb(None, [(4, "http://evil.example")]))
    write("config", "raw_toml_only", full)


def tool_seeds():
    write("tool_args", "query_full", json.dumps({"prompt": "Review this diff:\n--- a/x\n+++ b/x\n", "model": "gpt-5-codex",
          "system_prompt": "Be terse.", "reasoning_effort": "high", "temperature": 0.2,
          "conversation_id": "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", "max_output_chars": 20000}))
    write("tool_args", "query_min", json.dumps({"prompt": "hi"}))
    write("tool_args", "query_nulls", json.dumps({"prompt": "x", "model": None, "temperature": None}))
    write("tool_args", "query_bad_effort", json.dumps({"prompt": "x", "reasoning_effort": "extreme"}))
    write("tool_args", "query_unknown", json.dumps({"prompt": "x", "promt": "y"}))
    write("tool_args", "query_big_number", json.dumps({"prompt": "x", "max_output_chars": 1e10, "temperature": 3}))
    write("tool_args", "login_device", json.dumps({"method": "device"}))
    write("tool_args", "login_browser", json.dumps({"method": "browser"}))
    write("tool_args", "empty", "{}")


def callback_seeds():
    # `Input` is an arbitrary enum: the first 4 bytes (u32 LE) pick the variant (0 = Raw text).
    state = "Qx7vN2c_kR0aLmT-3pYwZ8uE1sD4fG6hJ9bV5nC0oI2"
    raw = b"\x00\x00\x00\x00"
    write("callback_query", "code_and_state", raw + f"code=ac_Gh7kL2mN9pQ4rS8tU1vW5xY&scope=openid+profile+email+offline_access&state={state}".encode())
    write("callback_query", "denied_entitlement", raw + f"error=access_denied&error_description=missing_codex_entitlement%3A+ask+your+admin&state={state}".encode())
    write("callback_query", "wrong_state", raw + b"code=abc&state=nope")
    write("callback_query", "repeated_state", raw + f"state=nope&code=a%2Bb%20c&state={state}".encode())
    write("callback_query", "no_code", raw + f"state={state}&code=".encode())
    write("callback_query", "bad_escapes", raw + f"code=%ZZ%e2%82&state={state}%".encode())
    write("callback_query", "built", b"\x01\x00\x00\x00\x01\x01" + b"ac_0123456789abcdef")


if __name__ == "__main__":
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    for f in (jwt_seeds, auth_seeds, state_seeds, sse_seeds, config_seeds, tool_seeds, callback_seeds):
        f()
    for t in sorted(os.listdir(ROOT)):
        print(t, len(os.listdir(os.path.join(ROOT, t))))
