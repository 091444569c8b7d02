# A small module of the kind people write around faceki_access_token, with
# tests that run it against the FACEKI emulator instead of FACEKI (see
# tests/ and docs/guides/testing-modules.md). It checks that the FACEKI
# account is set up as the module expects, and hands a token to a pipeline
# step that calls FACEKI with it.
#
# Nothing here names the emulator: the provider and the step read
# FACEKI_BASE_URL, FACEKI_CLIENT_ID and FACEKI_CLIENT_SECRET from the
# environment, so the same module runs against FACEKI or the emulator. Like
# any reusable module it has no provider block: its caller configures
# faceki, and each test file picks the emulator scenario it needs that way.
terraform {
  required_version = ">= 1.10"
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
  }
}

variable "required_documents" {
  description = "Document types the FACEKI account must accept."
  type        = list(string)
  default     = ["Passport"]
}

variable "result_file" {
  description = "Where the pipeline step writes what it got from FACEKI (never the token)."
  type        = string
  default     = "faceki-result.json"
}

variable "min_validity" {
  description = "How long the token handed to the pipeline step must still live."
  type        = string
  default     = "10m"
}

ephemeral "faceki_access_token" "this" {
  min_validity = var.min_validity
}

data "faceki_kyc_rules" "this" {}

locals {
  allowed_documents = coalesce(data.faceki_kyc_rules.this.allowed_kyc_documents, [])
  missing_documents = setsubtract(var.required_documents, local.allowed_documents)
}

# A warning, not an error, when the account does not match: the run goes on.
check "kyc_rules" {
  assert {
    condition     = data.faceki_kyc_rules.this.status == "ACTIVE"
    error_message = "The FACEKI KYC rules are not active."
  }

  assert {
    condition     = length(local.missing_documents) == 0
    error_message = "The FACEKI KYC rules do not accept ${join(", ", sort(local.missing_documents))}."
  }
}

# The consumer of the token: a step that calls FACEKI's bearer-protected
# KYC rules endpoint (curl -f fails the apply when FACEKI refuses the
# token) and writes the answer, the token's expiry and its own ID, never
# the token.
resource "terraform_data" "pipeline_step" {
  input = var.result_file

  provisioner "local-exec" {
    command = <<-EOT
      rules=$(curl -fsS -H "Authorization: Bearer $FACEKI_TOKEN" "$${FACEKI_BASE_URL:-https://sdk.faceki.com}/kycrules/api/kycrules") &&
        printf '{"written_by":"%s","token_expires_at":"%s","kyc_rules":%s}\n' "$STEP_ID" "$EXPIRES_AT" "$rules" >"$RESULT"
    EOT
    environment = {
      FACEKI_TOKEN = ephemeral.faceki_access_token.this.access_token
      EXPIRES_AT   = ephemeral.faceki_access_token.this.expires_at
      STEP_ID      = self.id
      RESULT       = var.result_file
    }
  }
}

output "result_file" {
  description = "The file the pipeline step wrote."
  value       = terraform_data.pipeline_step.output
}

output "company_id" {
  value = data.faceki_kyc_rules.this.company_id
}

output "missing_documents" {
  description = "Required documents the FACEKI account does not accept."
  value       = sort(local.missing_documents)
}
