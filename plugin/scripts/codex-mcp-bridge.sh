#!/bin/sh
# Starts codex-mcp-bridge for the codex-oauth plugin when CODEX_MCP_BRIDGE is not set (.mcp.json):
# the first one found on PATH, else in the usual places: /usr/bin (the .deb), /usr/local/bin,
# ~/.cargo/bin (cargo install), ~/.local/bin (the AppImage's install location, docs/DEPLOYMENT.md).
# It execs the bridge, so stdin and stdout are the bridge's own (MCP over stdio), and it prints
# nothing on stdout itself. When there is none, it says how to install one, in one line on stderr
# (the review gate's Stop hook excepted: see below).

if [ -n "${CODEX_MCP_BRIDGE:-}" ]; then
  exec "$CODEX_MCP_BRIDGE" "$@"
fi

on_path=$(command -v codex-mcp-bridge 2>/dev/null) || on_path=""
for bridge in "$on_path" /usr/bin/codex-mcp-bridge /usr/local/bin/codex-mcp-bridge \
  "${CARGO_HOME:-$HOME/.cargo}/bin/codex-mcp-bridge" "$HOME/.local/bin/codex-mcp-bridge"; do
  if [ -n "$bridge" ] && [ -f "$bridge" ] && [ -x "$bridge" ]; then
    exec "$bridge" "$@"
  fi
done

# The review gate (the plugin's Stop hook) fails open: without a bridge the stop goes through.
# When the user turned the gate on, one line says why it did not run; otherwise nothing, so a
# plugin installed before its bridge does not report a hook error at every stop.
if [ "${1:-}" = gate ]; then
  set -f
  for on in "${CLAUDE_PLUGIN_OPTION_REVIEW_GATE:-}" "${CODEX_OAUTH_REVIEW_GATE:-}"; do
    # Unquoted: the blanks around the value go (as the bridge trims it).
    case $(printf '%s' $on) in
      [Tt][Rr][Uu][Ee] | 1)
        printf '%s\n' '{"systemMessage":"codex-oauth review gate: codex-mcp-bridge is not installed, so the change was not reviewed and the stop went through. Install the codex-oauth .deb or AppImage, or run cargo install codex-mcp-bridge, or set CODEX_MCP_BRIDGE to its path."}'
        break
        ;;
    esac
  done
  exit 0
fi

echo "codex-oauth: codex-mcp-bridge not found (on PATH, in /usr/bin, /usr/local/bin, ~/.cargo/bin or ~/.local/bin): install the codex-oauth .deb or AppImage, or run 'cargo install codex-mcp-bridge', or set CODEX_MCP_BRIDGE to its path (https://github.com/codex-oauth/codex-oauth#install)" >&2
exit 127
