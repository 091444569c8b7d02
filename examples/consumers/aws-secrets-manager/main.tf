# Keeps a FACEKI token in AWS Secrets Manager. Write-only attributes need
# Terraform >= 1.11 (or OpenTofu >= 1.11) and hashicorp/aws >= 5.88.0, the
# first release with secret_string_wo. Before 6.26.0 a refresh still reads
# the secret's value (GetSecretValue), so the role that plans needs that
# permission; from 6.26.0 it does not.
#
# A FACEKI token lives one hour. A token written through secret_string_wo
# stays in Secrets Manager exactly as written until secret_string_wo_version
# changes: the CLI cannot read the stored value back and never notices that
# it has expired. secret_string_wo_version rejects ephemeral values, so the
# version comes from time_rotating, which changes at the first apply after
# rotation_minutes. Run apply on a schedule (here: at least every 15
# minutes), or readers will get an expired token.
#
# hashicorp/aws logs every request and response body, the token among
# them, at DEBUG: the consumers guide says how to debug without it.
terraform {
  required_version = ">= 1.11"
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.88.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9.0"
    }
  }
}

provider "faceki" {} # FACEKI_CLIENT_ID, FACEKI_CLIENT_SECRET
provider "aws" {}    # AWS_REGION and the usual AWS credential chain

ephemeral "faceki_access_token" "this" {
  min_validity = "50m" # 30 minutes of rotation + 15 between applies, and some margin
}

resource "time_rotating" "faceki_token" {
  rotation_minutes = 30
}

resource "aws_secretsmanager_secret" "faceki_token" {
  name        = "faceki/access-token"
  description = "FACEKI bearer token, rewritten by Terraform every 30 minutes"
}

resource "aws_secretsmanager_secret_version" "faceki_token" {
  secret_id                = aws_secretsmanager_secret.faceki_token.id
  secret_string_wo         = ephemeral.faceki_access_token.this.access_token
  secret_string_wo_version = time_rotating.faceki_token.unix
}
