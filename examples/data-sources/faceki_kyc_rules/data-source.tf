# The KYC rules of the FACEKI company behind the provider's credentials.
data "faceki_kyc_rules" "this" {}

# Warn, without stopping the run, when the account is not set up the way this
# configuration expects. (A `lifecycle { postcondition { … } }` block in the
# data source would stop the run instead.)
check "faceki_kyc_rules" {
  assert {
    condition     = data.faceki_kyc_rules.this.status == "ACTIVE"
    error_message = "The FACEKI KYC rules are not active."
  }

  assert {
    condition     = try(contains(data.faceki_kyc_rules.this.allowed_kyc_documents, "Passport"), false)
    error_message = "The FACEKI KYC rules do not accept passports."
  }

  assert {
    condition     = try(data.faceki_kyc_rules.this.valid_age >= 18, false)
    error_message = "The FACEKI KYC rules let users under 18 pass verification."
  }
}

output "faceki_liveness_check" {
  value = data.faceki_kyc_rules.this.liveness_check_type
}
