# Stands in for the DynamoDB table and the Aurora cluster.
variable "stage" { type = string }
variable "namespace" { type = string }
variable "table_name" { type = string }

resource "terraform_data" "table" {
  input = { table = var.table_name, aurora = "${var.namespace}-aurora-${var.stage}" }
}

output "table" { value = terraform_data.table.output }
