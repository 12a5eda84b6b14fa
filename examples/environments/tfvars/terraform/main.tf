# The seed's layout: one folder, one terraform.<env>.tfvars per environment (-var-file, not workspaces).
terraform {
  backend "s3" {
    bucket = "dr-daily-report-tfstate"
    key    = "terraform.tfstate"
    region = "ap-southeast-1"
  }
}

variable "environment" { type = string }
variable "project_name" { type = string }
variable "owner" { type = string }
variable "cost_center" { type = string }
variable "aws_region" { type = string }
variable "lambda_memory" { type = number }
variable "lambda_timeout" { type = number }
variable "log_retention_days" { type = number }
variable "line_channel_access_token" {
  type      = string
  sensitive = true
}
variable "openrouter_api_key" {
  type      = string
  sensitive = true
}

resource "terraform_data" "line_bot" {
  input = "${var.project_name}-line-bot-${var.environment}"
}
