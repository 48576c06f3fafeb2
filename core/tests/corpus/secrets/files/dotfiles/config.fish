# ~/.config/fish/config.fish
if status is-interactive
    set -g fish_greeting
end

fish_add_path ~/.local/bin ~/.cargo/bin

set -gx AWS_ACCESS_KEY_ID AKIAXZAXKIIACEM4W3Q4
set -gx AWS_SECRET_ACCESS_KEY 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
set -gx AWS_DEFAULT_REGION eu-west-1
set -Ux OPENAI_API_KEY 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
set -gx SLACK_BOT_TOKEN xoxb-314718783795-9754945053973-bd67qTg81IPh4OlM2ThZCr5U
set -gx SLACK_APP_TOKEN 'xapp-1-A6JSKKO7TXT-6237837743581-5b2fce451f2e560fe6f319f179732b8291eec492c7928000c7a6f7bbf323241d'
set -gx VAULT_TOKEN "hvs.gpWeCTk1ed3kulfVFSKxofGh"
set -x STRIPE_API_KEY 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
set -gx DB_PASSWORD Mosaic15_UtAb
set -gx SSH_AUTH_SOCK ~/.1password/agent.sock
set -q GITHUB_TOKEN; or set -gx GITHUB_TOKEN (gh auth token)

abbr -a gco git checkout
