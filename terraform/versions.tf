terraform {
  required_version = ">= 1.6.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.20"
    }
  }

  # State lives in the GCS bucket made once by bootstrap/ (see README "Deploy"):
  #   terraform init -backend-config="bucket=<state bucket>"
  backend "gcs" {
    prefix = "tasks"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
