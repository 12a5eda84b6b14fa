# Uses only terraform_data and outputs: no provider download needed.
variable "stage" { type = string }
variable "name" { type = string }
variable "owner" { type = string }

resource "terraform_data" "app" {
  input = {
    name  = var.name
    owner = var.owner
  }
}

output "app" {
  value = terraform_data.app.output
}
