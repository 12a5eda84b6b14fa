# HCL attributes with literal values, included with !include
cidr_block = "10.0.0.0/16"
azs        = ["a", "b"]
flags = {
  dns     = true
  max_azs = 3
}
