# Configures the Mastercard/restapi provider with the FACEKI token, so that
# its restapi_object resources call FACEKI's bearer-protected API: here a
# read of the company's KYC rules. make test applies this file, as it is,
# with restapi 1.20.0 against the FACEKI emulator
# (internal/provider/consumer_restapi_test.go).
#
# Provider configurations accept ephemeral values (Terraform >= 1.10,
# OpenTofu >= 1.11), so the token configures the provider without being
# written to the plan or state.
#
# restapi 3.x logs its headers, the token among them, at DEBUG when the
# provider is configured (and every request with debug = true): the
# consumers guide says how to debug without it.
terraform {
  required_version = ">= 1.10"
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
    restapi = {
      source = "Mastercard/restapi"
      # headers works from restapi 1.0.0; the restapi_object below needs
      # create_method and destroy_method, from 1.13.0.
      version = ">= 1.13.0"
    }
  }
}

variable "faceki_base_url" {
  description = "FACEKI's API, for both providers (the emulator's address in tests)."
  type        = string
  default     = "https://sdk.faceki.com"
}

provider "faceki" {
  base_url = var.faceki_base_url # FACEKI_CLIENT_ID, FACEKI_CLIENT_SECRET from the environment
}

ephemeral "faceki_access_token" "this" {
  # Long enough for every restapi request of the run.
  min_validity = "30m"
}

# The token in an Authorization header, on every request. From restapi 3.0.0,
# bearer_token = ephemeral.faceki_access_token.this.access_token (sensitive)
# does the same.
provider "restapi" {
  uri                   = var.faceki_base_url
  create_returns_object = true
  id_attribute          = "data/_id"
  headers = {
    Authorization = "Bearer ${ephemeral.faceki_access_token.this.access_token}"
  }
}

# FACEKI's KYC rules are a read-only singleton: every operation is a GET of
# the rules, and destroying the object only forgets it.
resource "restapi_object" "kyc_rules" {
  path           = "/kycrules/api/kycrules"
  create_method  = "GET"
  read_path      = "/kycrules/api/kycrules"
  destroy_method = "GET"
  destroy_path   = "/kycrules/api/kycrules"
  data           = "{}"
}

output "liveness_check_type" {
  value = jsondecode(restapi_object.kyc_rules.api_response).data.livenessCheckType
}
