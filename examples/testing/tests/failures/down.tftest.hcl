# FACEKI down: every token request of client "down" gets a 503 (-client
# 'down=503*'). The provider fails the run after its retries; a test file
# cannot expect that (expect_failures takes only the module's own
# conditions), so tests/failures.sh runs this file and checks the outcome.

provider "faceki" {
  client_id   = "down"
  max_retries = 1 # fail after one retry, not three: the outcome is the same
}

run "faceki_down" {
  command = apply

  variables {
    result_file = "down-result.json"
  }
}
