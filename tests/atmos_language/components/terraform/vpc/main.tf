variable "name" {
  type    = string
  default = ""
}
output "name" {
  value = var.name
}
