variable "project_id" {
  description = "Google Cloud project that hosts Tasks."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid Google Cloud project id."
  }
}

variable "region" {
  description = "Region of the regional GKE cluster, the network and the registry."
  type        = string
  default     = "europe-west1"
}

variable "name" {
  description = "Prefix of every resource's name."
  type        = string
  default     = "tasks"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 lowercase letters, digits or hyphens."
  }
}

variable "domain" {
  description = "Public host name of the app (Google-managed certificate, Gateway listener)."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose workflows deploy."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "github_repository_id" {
  description = "Numeric id of that repository: unlike its name, it cannot be taken over by a new repository of the same name."
  type        = string
  validation {
    condition     = can(regex("^[0-9]+$", var.github_repository_id))
    error_message = "github_repository_id must be the numeric repository id."
  }
}

variable "github_environment" {
  description = "GitHub deployment environment of the deploy job (its `environment:`); only tokens of jobs in it may deploy."
  type        = string
  default     = "production"
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+$", var.github_environment))
    error_message = "github_environment must be a plain environment name."
  }
}

variable "github_deploy_workflow" {
  description = "File name, under .github/workflows/, of the workflow whose deploy job may deploy."
  type        = string
  default     = "ci.yml"
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+[.]ya?ml$", var.github_deploy_workflow))
    error_message = "github_deploy_workflow must be a workflow file name such as ci.yml."
  }
}

variable "subnet_cidr" {
  description = "Primary range of the nodes' subnet."
  type        = string
  default     = "10.10.0.0/20"
}

variable "pods_cidr" {
  description = "Secondary range for pods."
  type        = string
  default     = "10.20.0.0/16"
}

variable "services_cidr" {
  description = "Secondary range for services."
  type        = string
  default     = "10.30.0.0/20"
}

variable "master_cidr" {
  description = "/28 range of the private control plane."
  type        = string
  default     = "172.16.0.0/28"
}

variable "node_machine_type" {
  description = "Machine type of the app's node pool."
  type        = string
  default     = "e2-standard-4"
}

variable "node_count_min" {
  description = "Minimum nodes per zone of the node pool."
  type        = number
  default     = 1
  validation {
    condition     = var.node_count_min >= 1
    error_message = "Keep at least one node per zone."
  }
}

variable "node_count_max" {
  description = "Maximum nodes per zone of the node pool."
  type        = number
  default     = 3
}

variable "k8s_namespace" {
  description = "Kubernetes namespace the Helm chart is installed in."
  type        = string
  default     = "tasks"
}

# Cloud Armor's per-client-IP rate limit (armor.tf). Every request counts (pages,
# assets, server functions), not only writes: the app's own per-pod write limit
# (the chart's protection.writeRateLimit) comes on top. 600 per 60 s is 10 requests a
# second per address, averaged over the minute, well above one person's use; raise it
# when many users share an address (offices, carrier NAT). The interval must be one of
# the values the Cloud Armor rate limiting documentation lists (the list below, as
# quoted by third parties: it could not be read from Google's page offline).
variable "edge_rate_limit_count" {
  description = "Requests per client IP per edge_rate_limit_interval_sec before Cloud Armor answers 429."
  type        = number
  default     = 600
  validation {
    condition     = var.edge_rate_limit_count == floor(var.edge_rate_limit_count) && var.edge_rate_limit_count >= 1 && var.edge_rate_limit_count <= 1000000
    error_message = "edge_rate_limit_count must be a whole number from 1 to 1,000,000 (Cloud Armor's throttle threshold)."
  }
}

variable "edge_rate_limit_interval_sec" {
  description = "Window, in seconds, over which Cloud Armor counts edge_rate_limit_count."
  type        = number
  default     = 60
  validation {
    condition     = contains([10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600], var.edge_rate_limit_interval_sec)
    error_message = "edge_rate_limit_interval_sec must be one of Cloud Armor's intervals: 10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700 or 3600."
  }
}

variable "edge_rate_limit_preview" {
  description = "Run the Cloud Armor rate limit in preview: requests over it are logged (load balancer logs), not refused. For tuning the threshold."
  type        = bool
  default     = false
}
