terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
    datadog = {
      source = "DataDog/datadog"
    }
  }
  backend "s3" {
    bucket = "acme-tf-state"
    key    = "storefront/prod.tfstate"
    region = "eu-west-1"
  }
}

provider "aws" {
  region     = "eu-west-1"
  access_key = "AKIAWVQPLATMRFZU5BPZ"
  secret_key = "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"
}

provider "datadog" {
  api_key = "821dbc582c6436e0ff3471722bc3a29e"
  app_key = "2d5ec6f088fcfd2f1e47d0b6bf19e8189fa1a6e4"
}

resource "random_password" "db" {
  length  = 32
  special = false
}

resource "aws_db_instance" "main" {
  identifier          = "storefront-prod"
  engine              = "postgres"
  engine_version      = "16.2"
  instance_class      = "db.t4g.medium"
  username            = "storefront"
  password            = random_password.db.result
  skip_final_snapshot = false
}

resource "aws_db_instance" "legacy" {
  identifier     = "billing-legacy"
  engine         = "mysql"
  instance_class = "db.t3.small"
  username       = "admin"
  password       = "Yub^rEJJ-ahLz?xM1acQ"
}

resource "aws_key_pair" "deploy" {
  key_name   = "deploy"
  public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINOf1kToFrQau5oLWCiSeqTVH0BJA91nFm1EuZlgQYSj deploy@acme"
}

resource "tls_private_key" "imported" {
  algorithm = "ECDSA"
}

resource "aws_iam_server_certificate" "legacy_lb" {
  name             = "legacy-lb"
  certificate_body = file("certs/legacy-lb.crt")
  private_key      = <<EOT
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIB79uR8K9dMzF1rQr1dg1P500UqGo5G19wncKpnxn/M/oAoGCCqGSM49
AwEHoUQDQgAEvMPLCSs+XtPd9aipUYi0udcKehdT1O+31+3ULdKFqSIX2NHDgOQI
jAs0kdo2QnQcSPuHGrSPxC84BF8RQB/law==
-----END EC PRIVATE KEY-----
EOT
}

resource "aws_ssm_parameter" "slack" {
  name  = "/storefront/slack-webhook"
  type  = "SecureString"
  value = "https://hooks.slack.com/services/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"
}

module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
  version = "5.5.3"
}
