variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "db_password" {
  description = "Password for the RDS master user (min 16 characters)"
  type        = string
  sensitive   = true
  default     = "I8juY54%mTsWe2E-S%k43L*Y"
}

variable "grafana_admin_password" {
  type      = string
  sensitive = true
}

variable "cloudflare_api_token" {
  type    = string
  default = "2NnEp2LmaVjSP3VtUzcEPzPvhBm7iHC_lZAONe6n"
}

variable "github_token" {
  type        = string
  description = "Token for the GitHub provider"
  default     = "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"
}

output "db_endpoint" {
  value = aws_db_instance.main.endpoint
}

output "db_password" {
  value     = var.db_password
  sensitive = true
}
