# terraform/terraform.dev.tfvars
# The dev environment: `provision env create feature/auth --from dev` clones it.

# REQUIRED CHANGE: Set unique environment name
environment  = "dev"  # e.g., "feature-auth", "feature-charts"

# Project Configuration (inherit from dev)
project_name = "dr-daily-report"
owner        = "data-team"
cost_center  = "engineering"

# AWS Configuration
aws_region = "ap-southeast-1"

# Lambda Configuration
lambda_memory  = 512
lambda_timeout = 120
log_retention_days = 3  # Shorter retention for feature envs (cost savings)

# Credentials: isolated ones are never copied to a new environment
line_channel_access_token = "dev-line-token-example"
openrouter_api_key        = "openrouter-example-key"

# OPTIONAL: Override for testing
# aurora_min_acu = 0.5  # Same as dev by default
