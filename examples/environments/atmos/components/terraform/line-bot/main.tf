# Stands in for the real Lambda + IAM role: terraform_data only, so the example needs no provider.
variable "stage" { type = string }
variable "namespace" { type = string }
variable "function_name" { type = string }
variable "lambda_memory" { type = number }
variable "lambda_timeout" { type = number }
variable "log_retention_days" { type = number }
variable "reports_bucket" { type = string }

resource "terraform_data" "function" {
  input = {
    function_name = var.function_name
    role_name     = "${var.namespace}-line-bot-role-${var.stage}"
  }
}

output "function" { value = terraform_data.function.output }
