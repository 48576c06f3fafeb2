"""Drive the real codex-mcp-bridge with the official Python MCP SDK (an independent client).

The bridge is $BRIDGE; its settings come from the environment (the Rust test points them at
fake-openai and seeds a signed-in store). Exits 1 with a reason on any mismatch, or when
fake-openai got a request it did not expect (its `GET /_fake/unexpected`, asked at the end); on
success the last stdout line is a JSON summary the Rust test checks further.
"""

import asyncio
import json
import os
import sys
import urllib.request

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

TOOLS = {"codex_query", "codex_review", "codex_status", "codex_login", "codex_clear", "codex_models", "codex_usage",
         "codex_jobs", "codex_result", "codex_cancel", "codex_task", "codex_apply"}


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", flush=True)
        sys.exit(1)


def unexpected_requests():
    """What fake-openai (at the issuer's address) did not expect, one line each. Read, not taken:
    the Rust test that started the fake checks the same record when it drops it."""
    url = os.environ["CODEX_OAUTH_ISSUER"].rstrip("/") + "/_fake/unexpected"
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read().decode())


def set_faults(faults):
    """Switch fake-openai's faults (all of them: what is not named is off)."""
    url = os.environ["CODEX_OAUTH_ISSUER"].rstrip("/") + "/_fake/faults"
    req = urllib.request.Request(url, data=json.dumps(faults).encode(), method="PUT",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def main():
    params = StdioServerParameters(command=os.environ["BRIDGE"], args=[], env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            check(init.server_info.name == "codex-oauth", f"server name {init.server_info.name}")

            tools = (await session.list_tools()).tools
            check({t.name for t in tools} == TOOLS, f"tools {[t.name for t in tools]}")
            for t in tools:
                check(t.input_schema.get("type") == "object", f"{t.name} schema")
            no_schema = [t.name for t in tools if not (t.output_schema or {}).get("type") == "object"]
            check(not no_schema, f"tools without an outputSchema: {no_schema}")
            ro = {t.name for t in tools if t.annotations and t.annotations.read_only_hint}
            check(ro == {"codex_status", "codex_models", "codex_usage", "codex_jobs", "codex_result"}, f"read-only tools {ro}")

            status = await session.call_tool("codex_status", {})
            check(not status.is_error, f"status failed: {text_of(status)}")
            check(status.structured_content["signed_in"] is True, "signed in")

            progress = []

            async def on_progress(value, total, message):
                progress.append(value)

            r = await session.call_tool("codex_query", {"prompt": "Hello from Python"}, progress_callback=on_progress)
            check(not r.is_error, f"query failed: {text_of(r)}")
            answer = r.structured_content["answer"]
            check(text_of(r).startswith(answer), "the text carries the answer")
            conv = r.structured_content["conversation_id"]

            r2 = await session.call_tool("codex_query", {"prompt": "And once more", "conversation_id": conv})
            check(not r2.is_error, f"follow-up failed: {text_of(r2)}")

            models = await session.call_tool("codex_models", {})
            slugs = [m["slug"] for m in models.structured_content["models"]]
            check("codex-auto-review" not in slugs and slugs, f"models {slugs}")

            usage = await session.call_tool("codex_usage", {})
            check(not usage.is_error, f"usage failed: {text_of(usage)}")

            # The working folder is a repository with a change (the test made it): the files
            # and the review go, and the SDK checks each result against the tool's outputSchema.
            q = await session.call_tool("codex_query", {"prompt": "Read it", "files": ["calc.py"]})
            check(not q.is_error, f"query with files failed: {text_of(q)}")
            sent = [f["path"] for f in q.structured_content["files"]["sent"]]
            check(sent == ["calc.py"], f"files sent {sent}")
            review = await session.call_tool("codex_review", {})
            check(not review.is_error, f"review failed: {text_of(review)}")
            check([c["path"] for c in review.structured_content["changed"]] == ["calc.py"],
                  f"review changed {review.structured_content.get('changed')}")
            # A background job: started, listed, its result waited for (each checked against
            # its tool's outputSchema by the SDK).
            job = await session.call_tool("codex_query", {"prompt": "In the background", "background": True})
            check(not job.is_error and job.structured_content["state"] == "running", f"job: {text_of(job)}")
            job_id = job.structured_content["job_id"]
            jobs = await session.call_tool("codex_jobs", {})
            check(job_id in [j["job_id"] for j in jobs.structured_content["jobs"]], f"jobs: {text_of(jobs)}")
            done = await session.call_tool("codex_result", {"job_id": job_id, "wait_seconds": 30})
            check(not done.is_error and done.structured_content["state"] == "completed", f"result: {text_of(done)}")
            check(done.structured_content["answer"].endswith("In the background"), f"result: {text_of(done)}")
            again = await session.call_tool("codex_cancel", {"job_id": job_id})
            check(not again.is_error and again.structured_content["state"] == "completed", f"cancel: {text_of(again)}")
            unknown = await session.call_tool("codex_query", {"prompt": "x", "conversation_id": "no-such"})
            check(unknown.is_error and unknown.structured_content["kind"] == "unknown_conversation",
                  f"unknown conversation: {unknown.structured_content}")

            # Large answers kept whole: the tools that can answer at length declare the result
            # size Claude Code keeps (their `_meta`), and a 300,000-character answer (not ASCII
            # only) arrives whole, in the text and in the structured content.
            large = {t.name for t in tools
                     if (t.meta or {}).get("anthropic/maxResultSizeChars") == 400000}
            check(large == {"codex_query", "codex_review", "codex_result", "codex_task"}, f"_meta on {large}")
            long_answer = "é✓a" * 100000
            set_faults({"answer": long_answer})
            big = await session.call_tool("codex_query", {"prompt": "A long one", "max_output_chars": 400000})
            check(not big.is_error, f"long query failed: {text_of(big)[:300]}")
            check(big.structured_content["answer"] == long_answer and len(long_answer) == 300000,
                  f"long answer: {len(big.structured_content['answer'])} characters")
            check(big.structured_content["truncated"] is False, "not cut")
            check(text_of(big).startswith(long_answer + "\n\n[codex"), "the text carries the whole answer")

            summary = {
                "answer": answer,
                "follow_up": r2.structured_content["answer"],
                "progress": len(progress),
                "models": slugs,
                "long_answer": len(big.structured_content["answer"]),
            }

    # The bridge has exited: every request it made is in.
    left = unexpected_requests()
    check(not left, "fake-openai got requests it did not expect: " + "; ".join(left))
    print(json.dumps(summary), flush=True)


asyncio.run(main())
