# The README's demo: `make demo` runs `tofu init` and `tofu apply` on this
# against the bundled FACEKI emulator. Credentials and base URL come from the
# FACEKI_CLIENT_ID, FACEKI_CLIENT_SECRET and FACEKI_BASE_URL environment
# variables, set by tools/demo.sh.
terraform {
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
  }
}

provider "faceki" {}

ephemeral "faceki_access_token" "this" {
  min_validity = "10m"
}

# A pipeline step that needs the token: call FACEKI's bearer-protected KYC
# rules endpoint. The token reaches the command through its environment and is
# never stored: not in state, not in the plan. The CLI hides the output of a
# command that uses an ephemeral value, so the command writes what it found
# (the rules and the token's expiry, never the token) to files.
resource "terraform_data" "kyc_rules" {
  input = "kyc-rules"

  provisioner "local-exec" {
    command = "curl -fsS -H \"Authorization: Bearer $FACEKI_TOKEN\" \"$FACEKI_BASE_URL/kycrules/api/kycrules\" -o kyc-rules.json && echo \"$EXPIRES_AT\" > token-expiry.txt"
    environment = {
      FACEKI_TOKEN = ephemeral.faceki_access_token.this.access_token
      EXPIRES_AT   = ephemeral.faceki_access_token.this.expires_at
    }
  }
}
