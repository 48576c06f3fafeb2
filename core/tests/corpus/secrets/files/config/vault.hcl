pid_file = "./pidfile"

vault {
  address = "https://vault.acme.internal:8200"
  retry {
    num_retries = 5
  }
}

auto_auth {
  method "approle" {
    config = {
      role_id_file_path   = "/etc/vault/role-id"
      secret_id_file_path = "/etc/vault/secret-id"
      remove_secret_id_file_after_reading = false
    }
  }

  sink "file" {
    config = {
      path = "/tmp/vault-token"
    }
  }
}

# Bootstrapping token until the approle is set up (INFRA-2231)
token = "hvs.CAESIDoPijRTe2LxK182Qz3FQ7x_qKmHUlBKEgNkfP3GAf-DaWP1vKWwRjB66jpzvyHe6EvZy9b4mzbkkw9ZVPrzsTV"

template {
  source      = "/etc/vault/templates/db.ctmpl"
  destination = "/etc/storefront/db.env"
}

listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
