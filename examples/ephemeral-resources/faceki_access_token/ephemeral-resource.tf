# A FACEKI bearer token with at least 15 minutes of life left. It is fetched
# when the CLI opens the ephemeral resource (during plan and again during
# apply) and is never written to the plan or state.
ephemeral "faceki_access_token" "this" {
  min_validity = "15m"
}

# Hand it to a command through its environment: provisioners accept
# ephemeral values, and the command line itself shows no secret.
resource "terraform_data" "kyc_rules" {
  triggers_replace = timestamp() # known only during apply: runs on every apply

  provisioner "local-exec" {
    command = "curl -fsS -H \"Authorization: Bearer $FACEKI_TOKEN\" https://sdk.faceki.com/kycrules/api/kycrules"
    environment = {
      FACEKI_TOKEN = ephemeral.faceki_access_token.this.access_token
    }
  }
}
