# Keeps a FACEKI token in a Kubernetes Secret, for pods that mount it or
# read it as an environment variable. Write-only attributes need Terraform
# >= 1.11 (or OpenTofu >= 1.11) and hashicorp/kubernetes >= 2.36.0, but not
# 2.37.0, which fails with Terraform >= 1.12.1 (fixed in 2.37.1).
#
# A FACEKI token lives one hour. A token written through data_wo stays in
# the Secret exactly as written until data_wo_revision changes: the CLI
# cannot read the stored value back and never notices that it has expired.
# data_wo_revision rejects ephemeral values, so the revision comes from
# time_rotating, which changes at the first apply after rotation_minutes.
# Run apply on a schedule (here: at least every 15 minutes), or pods will
# get an expired token.
#
# Debug logs: hashicorp/kubernetes writes the token into the run's log from
# DEBUG. Creating the Secret logs the whole Secret, token included, and with
# TF_LOG=DEBUG or TRACE it logs every HTTP request and response body, every
# read of the Secret among them. Never share the log of such a run. To debug
# FACEKI and the CLI, leave TF_LOG unset and set TF_LOG_CORE=TRACE and
# TF_LOG_PROVIDER=INFO, in every run: the troubleshooting guide's "Debugging
# safely" says why.
terraform {
  required_version = ">= 1.11"
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.36.0, != 2.37.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9.0"
    }
  }
}

provider "faceki" {} # FACEKI_CLIENT_ID, FACEKI_CLIENT_SECRET

provider "kubernetes" {
  config_path = "~/.kube/config"
}

ephemeral "faceki_access_token" "this" {
  min_validity = "50m" # 30 minutes of rotation + 15 between applies, and some margin
}

resource "time_rotating" "faceki_token" {
  rotation_minutes = 30
}

resource "kubernetes_secret_v1" "faceki_token" {
  metadata {
    name      = "faceki-access-token"
    namespace = "default"
  }

  type = "Opaque"
  data_wo = {
    access_token = ephemeral.faceki_access_token.this.access_token
  }
  data_wo_revision = time_rotating.faceki_token.unix
}
