# Keeps a FACEKI token in Google Secret Manager. Write-only attributes need
# Terraform >= 1.11 (or OpenTofu >= 1.11) and hashicorp/google >= 6.23.0.
#
# A FACEKI token lives one hour. A token written through secret_data_wo
# stays in Secret Manager exactly as written until secret_data_wo_version
# changes: the CLI cannot read the stored value back and never notices that
# it has expired. secret_data_wo_version rejects ephemeral values, so the
# version comes from time_rotating, which changes at the first apply after
# rotation_minutes. Run apply on a schedule (here: at least every 15
# minutes), or readers will get an expired token.
#
# secret_data_wo_version forces replacement: each change creates a new
# secret version and destroys the old one (deletion_policy "DELETE", the
# default), so readers should read the "latest" version, never a number.
# deletion_policy = "DISABLE" keeps old versions, disabled.
#
# Written for google 6.x to 8.x. Before 8.0 secret_data_wo_version is a
# number, which time_rotating.unix is; from 8.0 it is a string, and the CLI
# converts the number to one.
#
# hashicorp/google logs the new secret version, the token's Base64, at
# DEBUG: the consumers guide says how to debug without it.
terraform {
  required_version = ">= 1.11"
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
    google = {
      source  = "hashicorp/google"
      version = ">= 6.23.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9.0"
    }
  }
}

provider "faceki" {} # FACEKI_CLIENT_ID, FACEKI_CLIENT_SECRET
provider "google" {} # GOOGLE_PROJECT and application default credentials

ephemeral "faceki_access_token" "this" {
  min_validity = "50m" # 30 minutes of rotation + 15 between applies, and some margin
}

resource "time_rotating" "faceki_token" {
  rotation_minutes = 30
}

resource "google_secret_manager_secret" "faceki_token" {
  secret_id = "faceki-access-token"

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "faceki_token" {
  secret                 = google_secret_manager_secret.faceki_token.id
  secret_data_wo         = ephemeral.faceki_access_token.this.access_token
  secret_data_wo_version = time_rotating.faceki_token.unix
}
