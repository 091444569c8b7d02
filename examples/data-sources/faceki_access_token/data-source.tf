# Only for CLIs without ephemeral resources (Terraform before 1.10, OpenTofu
# before 1.11): this token is stored in the state and in saved plans. Use the
# faceki_access_token ephemeral resource wherever the CLI supports it.
terraform {
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
    restapi = {
      source = "Mastercard/restapi"
    }
  }
}

data "faceki_access_token" "this" {
  min_validity = "10m"
}

provider "restapi" {
  uri = "https://sdk.faceki.com"
  headers = {
    Authorization = "Bearer ${data.faceki_access_token.this.access_token}"
  }
}
