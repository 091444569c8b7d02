# A wrong client secret: FACEKI (the emulator) answers 401 and the provider
# fails the run without retrying. Run by tests/failures.sh, which checks the
# outcome a test file cannot expect.

provider "faceki" {
  client_secret = "not-the-client-secret" # the client ID still comes from FACEKI_CLIENT_ID
}

run "wrong_secret" {
  command = apply

  variables {
    result_file = "wrong-secret-result.json"
  }
}
