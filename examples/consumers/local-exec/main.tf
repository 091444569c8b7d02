# Gives the token to a script run by a local-exec provisioner, through its
# environment. Provisioners accept ephemeral values (Terraform >= 1.10,
# OpenTofu >= 1.11): the token is in neither the plan, the state nor the
# command line that the CLI prints.
terraform {
  required_version = ">= 1.10"
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
  }
}

provider "faceki" {} # FACEKI_CLIENT_ID, FACEKI_CLIENT_SECRET

ephemeral "faceki_access_token" "this" {
  min_validity = "10m"
}

resource "terraform_data" "export_kyc_rules" {
  # Provisioners run when the resource is created; timestamp() is known
  # only during apply, so every apply replaces it and runs the script again.
  triggers_replace = timestamp()

  provisioner "local-exec" {
    command = "curl -fsS -H \"Authorization: Bearer $FACEKI_TOKEN\" https://sdk.faceki.com/kycrules/api/kycrules -o kyc-rules.json"
    environment = {
      FACEKI_TOKEN = ephemeral.faceki_access_token.this.access_token
    }
  }
}
