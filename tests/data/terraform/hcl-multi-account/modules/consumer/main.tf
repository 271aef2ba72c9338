variable "name" { type = string }
variable "cidr" { type = string }
variable "service_network_arn" { type = string }

data "aws_availability_zones" "this" {}

resource "aws_vpc" "this" {
  cidr_block = var.cidr
  tags       = { Name = var.name }
}

resource "aws_subnet" "this" {
  count             = 2
  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet(var.cidr, 8, count.index)
  availability_zone = data.aws_availability_zones.this.names[count.index]
}

resource "aws_vpclattice_service_network_vpc_association" "this" {
  vpc_identifier             = aws_vpc.this.id
  service_network_identifier = var.service_network_arn
}
