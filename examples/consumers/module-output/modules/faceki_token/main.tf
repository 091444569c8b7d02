# A module that hands its caller a FACEKI token as an ephemeral output.
# Ephemeral outputs need Terraform >= 1.10 (OpenTofu >= 1.11) and are
# allowed in child modules only; the caller can use them wherever ephemeral
# values are accepted.
terraform {
  required_version = ">= 1.10"
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
  }
}

variable "min_validity" {
  type        = string
  default     = "10m"
  description = "How much life the token must have left, as a Go duration."
}

ephemeral "faceki_access_token" "this" {
  min_validity = var.min_validity
}

output "token" {
  description = "FACEKI bearer token."
  value       = ephemeral.faceki_access_token.this.access_token
  ephemeral   = true
  sensitive   = true
}

output "expires_at" {
  description = "When the token expires (RFC 3339, UTC)."
  value       = ephemeral.faceki_access_token.this.expires_at
  ephemeral   = true
}
