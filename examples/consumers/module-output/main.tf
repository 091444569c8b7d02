# Uses the token from a module's ephemeral output. The module takes the
# root module's faceki provider configuration.
terraform {
  required_version = ">= 1.10"
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
  }
}

provider "faceki" {} # FACEKI_CLIENT_ID, FACEKI_CLIENT_SECRET

module "faceki_token" {
  source       = "./modules/faceki_token"
  min_validity = "15m"
}

resource "terraform_data" "kyc_rules" {
  triggers_replace = timestamp() # known only during apply: runs on every apply

  provisioner "local-exec" {
    command = "curl -fsS -H \"Authorization: Bearer $FACEKI_TOKEN\" https://sdk.faceki.com/kycrules/api/kycrules"
    environment = {
      FACEKI_TOKEN = module.faceki_token.token
    }
  }
}
