# Run once per project, with local state, to create the bucket that holds the main
# configuration's state:
#   terraform -chdir=terraform/bootstrap init
#   terraform -chdir=terraform/bootstrap apply -var project_id=... -var region=...
#   terraform -chdir=terraform init -backend-config="bucket=$(terraform -chdir=terraform/bootstrap output -raw state_bucket)"

terraform {
  required_version = ">= 1.6.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.20"
    }
  }
}

variable "project_id" {
  description = "Google Cloud project that hosts Tasks."
  type        = string
}

variable "region" {
  description = "Location of the state bucket."
  type        = string
  default     = "europe-west1"
}

provider "google" {
  project = var.project_id
  region  = var.region
}

resource "google_storage_bucket" "state" {
  # checkov:skip=CKV_GCP_62:Only Terraform and its operators touch the state; Cloud Audit Logs record who did
  name                        = "${var.project_id}-tasks-tfstate"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      num_newer_versions = 20
    }
    action {
      type = "Delete"
    }
  }
}

output "state_bucket" {
  description = "Name of the state bucket, for terraform init -backend-config."
  value       = google_storage_bucket.state.name
}
