name = "vpc"
cidr = cidrsubnet("10.0.0.0/8", 8, 1)
