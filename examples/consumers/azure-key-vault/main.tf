# Keeps a FACEKI token in Azure Key Vault. Write-only attributes need
# Terraform >= 1.11 (or OpenTofu >= 1.11) and hashicorp/azurerm >= 4.23.0.
#
# A FACEKI token lives one hour. A token written through value_wo stays in
# Key Vault exactly as written until value_wo_version changes: the CLI
# cannot read the stored value back and never notices that it has expired.
# value_wo_version rejects ephemeral values, so the version comes from
# time_rotating, which changes at the first apply after rotation_minutes.
# Run apply on a schedule (here: at least every 15 minutes), or readers
# will get an expired token.
#
# hashicorp/azurerm logs every Key Vault request and response, the token
# among them, at DEBUG, whatever TF_LOG_PROVIDER_AZURERM says: the
# consumers guide says how to debug without it.
terraform {
  required_version = ">= 1.11"
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.23.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9.0"
    }
  }
}

provider "faceki" {} # FACEKI_CLIENT_ID, FACEKI_CLIENT_SECRET

provider "azurerm" { # ARM_SUBSCRIPTION_ID and the usual Azure credentials
  features {}
}

variable "key_vault_id" {
  type        = string
  description = "ID of the Key Vault that holds the token."
}

ephemeral "faceki_access_token" "this" {
  min_validity = "50m" # 30 minutes of rotation + 15 between applies, and some margin
}

resource "time_rotating" "faceki_token" {
  rotation_minutes = 30
}

resource "azurerm_key_vault_secret" "faceki_token" {
  name             = "faceki-access-token"
  key_vault_id     = var.key_vault_id
  content_type     = "FACEKI bearer token"
  value_wo         = ephemeral.faceki_access_token.this.access_token
  value_wo_version = time_rotating.faceki_token.unix
}
