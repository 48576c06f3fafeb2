//! The token rules: secrets known by their own shape, wherever they appear. This file is data:
//! one entry a rule, each with its name (the `kind` a redaction reports), its pattern, the
//! capture group that holds the secret, and a line it must catch (the tests run every one).
//!
//! The formats were learnt from the providers' documentation and the public rule sets of the
//! field's scanners (gitleaks, Nosey Parker); the patterns are written for this filter. The
//! order matters: a more specific rule comes first, so a GitHub token in a URL is reported as a
//! GitHub token, not as a URL password.

/// One token rule.
pub(super) struct TokenRule {
    /// What the redaction reports: `openai_key`, `github_token`…
    pub kind: &'static str,
    pub pattern: &'static str,
    /// The capture group that holds the secret (0: the whole match).
    pub group: usize,
    /// A further check of the secret, for shapes a pattern alone would over-match.
    pub check: Option<fn(&str) -> bool>,
    /// Literals one of which every match holds, for a pattern that does not start with one:
    /// a text without any of them skips the rule (its own prefixes are found by themselves).
    pub needs: &'static [&'static str],
    /// A line the rule must catch, and the secret in it (run by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub example: (&'static str, &'static str),
}

const fn rule(
    kind: &'static str,
    pattern: &'static str,
    group: usize,
    example: (&'static str, &'static str),
) -> TokenRule {
    TokenRule {
        kind,
        pattern,
        group,
        check: None,
        needs: &[],
        example,
    }
}

const fn checked(
    kind: &'static str,
    pattern: &'static str,
    group: usize,
    check: fn(&str) -> bool,
    example: (&'static str, &'static str),
) -> TokenRule {
    TokenRule {
        check: Some(check),
        ..rule(kind, pattern, group, example)
    }
}

/// A part that has both a letter and a digit (a random token), not a word.
fn mixed(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Rules that find a credential by its context rather than its shape: a reference or a
/// placeholder in their place (`Bearer ${TOKEN}`, `-u user:<password>`) is no secret.
pub(super) const BY_CONTEXT: &[&str] = &[
    "authorization_header",
    "bearer_token",
    "basic_auth",
    "pgpass",
    "netrc",
    "cli_password",
    "basic_auth_call",
    "redis_acl",
    "gcp_private_key_id",
    "aws_secret_access_key",
];

pub(super) const TOKEN_RULES: &[TokenRule] = &[
    rule(
        "anthropic_key",
        r"\bsk-ant-[A-Za-z0-9_-]{20,}",
        0,
        (
            "ANTHROPIC=sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv",
            "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv",
        ),
    ),
    rule(
        "openai_key",
        r"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}",
        0,
        (
            "client = OpenAI(api_key=os.environ.get('X') or sk-proj-AbCdEfGhIjKlMnOpQrStUvWx)",
            "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx",
        ),
    ),
    rule(
        "github_token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})",
        0,
        (
            "git clone https://x:ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789@github.com/o/r",
            "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        ),
    ),
    rule(
        "gitlab_token",
        r"\bgl(?:pat|dt|rt|ptt|ft|imt|agent|oas|cbt|soat|ffct)-[A-Za-z0-9_-]{20,}",
        0,
        (
            "token glpat-AbCdEfGhIjKlMnOpQrSt",
            "glpat-AbCdEfGhIjKlMnOpQrSt",
        ),
    ),
    rule(
        "aws_access_key_id",
        r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[0-9A-Z]{16}\b",
        0,
        ("key AKIAIOSFODNN7EXAMPLE in use", "AKIAIOSFODNN7EXAMPLE"),
    ),
    rule(
        "aws_secret_access_key",
        r#"(?i)aws_?secret_?(?:access_?)?key(?:_id)?["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})\b"#,
        1,
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
    ),
    rule(
        "google_api_key",
        r"\bAIza[0-9A-Za-z_-]{35}\b",
        0,
        (
            "const KEY = AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW;",
            "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
        ),
    ),
    rule(
        "google_oauth_secret",
        r"\bGOCSPX-[A-Za-z0-9_-]{28}\b",
        0,
        (
            "client_secret: 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",
            "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",
        ),
    ),
    rule(
        "gcp_private_key_id",
        r#"(?i)private_key_id["']?\s*[:=]\s*["']?([0-9a-f]{40})\b"#,
        1,
        (
            r#"  "private_key_id": "1f2e3d4c5b6a79880123456789abcdef01234567","#,
            "1f2e3d4c5b6a79880123456789abcdef01234567",
        ),
    ),
    rule(
        "slack_token",
        r"\bxox[abposre]-(?:\d+-)?[A-Za-z0-9-]{10,}",
        0,
        (
            "hook: xoxb-1234567890-abcdefghijkl",
            "xoxb-1234567890-abcdefghijkl",
        ),
    ),
    rule(
        "slack_app_token",
        r"\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{32,}",
        0,
        (
            "SLACK_APP_TOKEN=xapp-1-A0123ABCDEF-1234567890123-0123456789abcdef0123456789abcdef",
            "xapp-1-A0123ABCDEF-1234567890123-0123456789abcdef0123456789abcdef",
        ),
    ),
    rule(
        "slack_webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9+/_-]{20,})",
        1,
        (
            "url: https://hooks.slack.com/services/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",
            "T0A1B2C3D/B4E5F6G7H/q8R9s0T1u2V3w4X5y6Z7a8B9",
        ),
    ),
    rule(
        "discord_webhook",
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/(\d+/[A-Za-z0-9_-]{20,})",
        1,
        (
            "DISCORD=https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789",
            "123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789",
        ),
    ),
    rule(
        "teams_webhook",
        r"https://[A-Za-z0-9.-]+\.webhook\.office\.com/webhookb2/([^\s'\x22<>]{20,})",
        1,
        (
            "hook https://acme.webhook.office.com/webhookb2/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab@0a1b/IncomingWebhook/abc123",
            "0a1b2c3d-aaaa-bbbb-cccc-0123456789ab@0a1b/IncomingWebhook/abc123",
        ),
    ),
    rule(
        "discord_bot_token",
        r"\b[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}\b",
        0,
        (
            "DISCORD_TOKEN: MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl.AbCdEfGhIjKlMnOpQrStUvWxYz01234",
            "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl.AbCdEfGhIjKlMnOpQrStUvWxYz01234",
        ),
    ),
    rule(
        "stripe_key",
        r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}|\bwhsec_[0-9A-Za-z]{24,}",
        0,
        (
            "Stripe.api_key = sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        ),
    ),
    rule(
        "sendgrid_key",
        r"\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{30,50}",
        0,
        (
            "sendgrid.key(SG.aBcDeFgHiJkLmNoPqRsTuV.wXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ012)",
            "SG.aBcDeFgHiJkLmNoPqRsTuV.wXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ012",
        ),
    ),
    rule(
        "twilio_key",
        r"\bSK[0-9a-fA-F]{32}\b",
        0,
        (
            "TWILIO_API_KEY_SID SK0123456789abcdef0123456789abcdef",
            "SK0123456789abcdef0123456789abcdef",
        ),
    ),
    rule(
        "mailgun_key",
        r"\bkey-[0-9a-f]{32}\b",
        0,
        (
            "mg = Mailgun('key-0123456789abcdef0123456789abcdef')",
            "key-0123456789abcdef0123456789abcdef",
        ),
    ),
    rule(
        "mailchimp_key",
        r"\b[0-9a-f]{32}-us[0-9]{1,2}\b",
        0,
        (
            "mailchimp 0123456789abcdef0123456789abcdef-us21",
            "0123456789abcdef0123456789abcdef-us21",
        ),
    ),
    rule(
        "telegram_bot_token",
        r"\b[0-9]{5,16}:A[A-Za-z0-9_-]{34}\b",
        0,
        (
            "bot = Bot('5432109876:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9')",
            "5432109876:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9",
        ),
    ),
    rule(
        "shopify_token",
        r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
        0,
        (
            "SHOPIFY=shpat_0123456789abcdef0123456789abcdef",
            "shpat_0123456789abcdef0123456789abcdef",
        ),
    ),
    rule(
        "age_secret_key",
        r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b",
        0,
        (
            "# key: AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE",
            "AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE",
        ),
    ),
    rule(
        "vault_token",
        r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}",
        0,
        (
            "export VAULT_TOKEN=hvs.CAESIJ0123456789abcdefghijklmnopqrstuvwxyz",
            "hvs.CAESIJ0123456789abcdefghijklmnopqrstuvwxyz",
        ),
    ),
    rule(
        "npm_token",
        r"\bnpm_[A-Za-z0-9]{36}\b",
        0,
        (
            "//registry.npmjs.org/:_authToken=npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
            "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        ),
    ),
    rule(
        "pypi_token",
        r"\bpypi-AgE[A-Za-z0-9_-]{50,}",
        0,
        (
            "password = pypi-AgEIcHlwaS5vcmcCJDAxMjM0NTY3LTg5YWItY2RlZi0wMTIzLTQ1Njc4OWFiY2RlZgACKlsz",
            "pypi-AgEIcHlwaS5vcmcCJDAxMjM0NTY3LTg5YWItY2RlZi0wMTIzLTQ1Njc4OWFiY2RlZgACKlsz",
        ),
    ),
    rule(
        "huggingface_token",
        r"\bhf_[A-Za-z0-9]{30,}\b",
        0,
        (
            "HF hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456",
            "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456",
        ),
    ),
    rule(
        "digitalocean_token",
        r"\bdo[opr]_v1_[a-f0-9]{64}\b",
        0,
        (
            "token: dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
    ),
    rule(
        "databricks_token",
        r"\bdapi[a-f0-9]{32}(?:-\d)?\b",
        0,
        (
            "host=x token=dapi0123456789abcdef0123456789abcdef",
            "dapi0123456789abcdef0123456789abcdef",
        ),
    ),
    rule(
        "linear_key",
        r"\blin_(?:api|oauth)_[A-Za-z0-9]{40}\b",
        0,
        (
            "LINEAR lin_api_0123456789abcdefghijABCDEFGHIJ0123456789",
            "lin_api_0123456789abcdefghijABCDEFGHIJ0123456789",
        ),
    ),
    rule(
        "notion_token",
        r"\b(?:secret_[A-Za-z0-9]{43}|ntn_[0-9]{11}[A-Za-z0-9]{35})\b",
        0,
        (
            "NOTION secret_0123456789abcdefghijABCDEFGHIJ0123456789abc",
            "secret_0123456789abcdefghijABCDEFGHIJ0123456789abc",
        ),
    ),
    rule(
        "atlassian_token",
        r"\bATATT3[A-Za-z0-9_=-]{150,}",
        0,
        (
            "JIRA ATATT3xFfGF0AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789=ABCD1234",
            "ATATT3xFfGF0AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789=ABCD1234",
        ),
    ),
    rule(
        "grafana_token",
        r"\b(?:glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})",
        0,
        (
            "GRAFANA glsa_0123456789abcdefghijABCDEFGHIJ01_0a1b2c3d",
            "glsa_0123456789abcdefghijABCDEFGHIJ01_0a1b2c3d",
        ),
    ),
    rule(
        "postman_key",
        r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b",
        0,
        (
            "x PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01",
            "PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01",
        ),
    ),
    rule(
        "newrelic_key",
        r"\bNR(?:AK|II|JS)-[A-Za-z0-9]{27}\b",
        0,
        (
            "NEW_RELIC NRAK-0123456789ABCDEFGHIJKLMNOPQ",
            "NRAK-0123456789ABCDEFGHIJKLMNOPQ",
        ),
    ),
    rule(
        "sentry_token",
        r"\bsntry[su]_[A-Za-z0-9_=+/-]{40,}",
        0,
        (
            "SENTRY_AUTH sntrys_eyJpYXQiOjE3MDAwMDAwMDAuMCwidXJsIjoiaHR0cHM6Ly9zZW50cnkuaW8ifQ_abc",
            "sntrys_eyJpYXQiOjE3MDAwMDAwMDAuMCwidXJsIjoiaHR0cHM6Ly9zZW50cnkuaW8ifQ_abc",
        ),
    ),
    rule(
        "doppler_token",
        r"\bdp\.(?:pt|st|ct|scim|audit)\.[A-Za-z0-9]{40,44}\b",
        0,
        (
            "DOPPLER dp.pt.0123456789abcdefghijABCDEFGHIJ0123456789ab",
            "dp.pt.0123456789abcdefghijABCDEFGHIJ0123456789ab",
        ),
    ),
    rule(
        "pulumi_token",
        r"\bpul-[a-f0-9]{40}\b",
        0,
        (
            "PULUMI_ACCESS_TOKEN pul-0123456789abcdef0123456789abcdef01234567",
            "pul-0123456789abcdef0123456789abcdef01234567",
        ),
    ),
    rule(
        "square_token",
        r"\b(?:sq0atp|sq0csp)-[A-Za-z0-9_-]{22,43}\b|\bEAAA[A-Za-z0-9_-]{60}\b",
        0,
        (
            "SQUARE sq0csp-0123456789abcdefghijABCDEFGHIJ0123456789a",
            "sq0csp-0123456789abcdefghijABCDEFGHIJ0123456789a",
        ),
    ),
    TokenRule {
        needs: &["Q~"],
        ..rule(
            "azure_ad_secret",
            r"\b[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}\b",
            0,
            (
                "AZURE_CLIENT_SECRET abc8Q~0123456789abcdefghijABCDEFGHIJ012",
                "abc8Q~0123456789abcdefghijABCDEFGHIJ012",
            ),
        )
    },
    rule(
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        0,
        (
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ),
    ),
    checked(
        "kubernetes_bootstrap_token",
        r"\b[a-z0-9]{6}\.([a-z0-9]{16})\b",
        0,
        |t| t.split_once('.').is_some_and(|(_, b)| mixed(b)),
        (
            "kubeadm join 10.0.0.1:6443 --token 07401b.f395accd246ae52d --discovery-token-unsafe-skip-ca-verification",
            "07401b.f395accd246ae52d",
        ),
    ),
    // `Authorization: Basic …`, `Bearer …`, `token …` with a literal credential.
    rule(
        "authorization_header",
        r#"(?i)\b(?:proxy-)?authorization\b["']?\s*[:=,]\s*["']?(?:[A-Za-z][A-Za-z0-9_-]*\s+)?([A-Za-z0-9._~+/=:-]{8,})"#,
        1,
        (
            r#"curl -H "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l" https://api.example.com"#,
            "YWxhZGRpbjpvcGVuc2VzYW1l",
        ),
    ),
    rule(
        "bearer_token",
        r"(?i)\bbearer\s+([A-Za-z0-9._~+/-]{20,}=*)",
        1,
        (
            "fetch(url, { headers: { X: 'Bearer 0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d' } })",
            "0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d",
        ),
    ),
    rule(
        "basic_auth",
        r#"(?:^|\s)(?:-u|--user|--proxy-user)[\s=]+["']?[^\s:"'$]*:([^\s"'$][^\s"']*)"#,
        1,
        (
            "curl -u deploy:Tr0ub4dor-and-3 https://ci.example.com/job",
            "Tr0ub4dor-and-3",
        ),
    ),
    // A `.pgpass` line: host:port:database:user:password.
    rule(
        "pgpass",
        r"^\s*[A-Za-z0-9._*\[\]-]+:(?:[0-9]{1,5}|\*):[^:\s]+:[^:\s]+:(\S{3,})\s*$",
        1,
        (
            "db.internal:5432:orders:app:pg-Secret-4431",
            "pg-Secret-4431",
        ),
    ),
    // A `.netrc` entry, on one line or its `password` on a line of its own.
    rule(
        "netrc",
        r"\blogin\s+\S+\s+password\s+(\S+)|^\s*password\s+(\S+)\s*$",
        1,
        (
            "machine api.example.com login bot password n3trc-Pass-99",
            "n3trc-Pass-99",
        ),
    ),
    // A password on a command line: `docker login -p …`, `sshpass -p …`, `mysql -p'…'`,
    // `echo … | docker login --password-stdin`.
    rule(
        "cli_password",
        r#"\b(?:docker|podman|nerdctl|buildah|skopeo|helm|oras|crane)\b[^|;&]*?\blogin\b[^|;&]*?\s(?:-p|--password)[ \t=]+["']?([^\s"'$]+)|\bsshpass\s+-p\s*["']?([^\s"'$]+)|\bmysql(?:dump|admin|import|check|sh|pump)?\b[^|;&]*?\s-p["']?([^\s"'$-][^\s"']*)|\becho\s+(?:-n\s+)?["']?([^\s"'$|]+)["']?\s*\|[^|]*--password-stdin"#,
        1,
        ("sh 'sshpass -p Eag1e-pw ssh deploy@host'", "Eag1e-pw"),
    ),
    // Basic credentials given to an HTTP client: `auth=("user", "pw")`,
    // `HTTPBasicAuth("user", "pw")`, Faraday's `:authorization, :basic, "user", "pw"`.
    rule(
        "basic_auth_call",
        r#"(?i)(?:\bauth\s*=\s*\(|basic_?auth\w*\s*\(|:authorization,\s*:basic,)\s*["'][^"']*["']\s*,\s*["']([^"']+)["']"#,
        1,
        (
            r#"requests.get(url, auth=("partner", "b4sic-Auth-pw"))"#,
            "b4sic-Auth-pw",
        ),
    ),
    // Redis ACL: `user NAME on >password ~* +@all`.
    rule(
        "redis_acl",
        r"^\s*user\s+\S+\s+(?:\S+\s+)*?>(\S+)",
        1,
        ("user metrics on >r3dis-Acl-pw ~* +info", "r3dis-Acl-pw"),
    ),
];
