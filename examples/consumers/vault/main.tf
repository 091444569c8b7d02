# Keeps a FACEKI token in a Vault KV v2 secret, for workloads that read
# their credentials from Vault. Write-only attributes need Terraform >= 1.11
# (or OpenTofu >= 1.11) and hashicorp/vault >= 5.0.0.
#
# A FACEKI token lives one hour. A token written through data_json_wo stays
# in Vault exactly as written until data_json_wo_version changes: the CLI
# cannot read the stored value back and never notices that it has expired.
# data_json_wo_version rejects ephemeral values, so the version comes from
# time_rotating, which changes at the first apply after rotation_minutes.
# Run apply on a schedule (here: at least every 15 minutes), or readers
# will get an expired token.
terraform {
  required_version = ">= 1.11"
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
    vault = {
      source  = "hashicorp/vault"
      version = ">= 5.0.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9.0"
    }
  }
}

provider "faceki" {} # FACEKI_CLIENT_ID, FACEKI_CLIENT_SECRET
provider "vault" {}  # VAULT_ADDR, VAULT_TOKEN

ephemeral "faceki_access_token" "this" {
  # Written at most every 30 minutes + 15 minutes between applies: the
  # stored token must stay valid for that long.
  min_validity = "50m"
}

resource "time_rotating" "faceki_token" {
  rotation_minutes = 30
}

resource "vault_kv_secret_v2" "faceki_token" {
  mount = "secret"
  name  = "faceki/access-token"

  data_json_wo = jsonencode({
    access_token = ephemeral.faceki_access_token.this.access_token
    expires_at   = ephemeral.faceki_access_token.this.expires_at
  })
  data_json_wo_version = time_rotating.faceki_token.unix
}
