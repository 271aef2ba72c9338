resource "aws_vpc" "provider" {
  provider   = aws.provider
  cidr_block = "10.100.0.0/16"
  tags       = { Name = "orders-vpc" }
}

resource "aws_subnet" "provider" {
  provider          = aws.provider
  for_each          = { a = 0, b = 1 }
  vpc_id            = aws_vpc.provider.id
  cidr_block        = cidrsubnet(aws_vpc.provider.cidr_block, 4, each.value)
  availability_zone = "us-east-1${each.key}"
}

resource "aws_vpclattice_service" "orders" {
  provider  = aws.provider
  name      = "orders"
  auth_type = "NONE"
}

resource "aws_vpclattice_target_group" "orders" {
  provider = aws.provider
  name     = "orders-ip"
  type     = "IP"
  config {
    vpc_identifier = aws_vpc.provider.id
    port           = 80
    protocol       = "HTTP"
  }
}

resource "aws_vpclattice_target_group_attachment" "orders" {
  provider                = aws.provider
  for_each                = aws_subnet.provider
  target_group_identifier = aws_vpclattice_target_group.orders.id
  target {
    id   = cidrhost(each.value.cidr_block, 20)
    port = 80
  }
}

resource "aws_vpclattice_listener" "orders" {
  provider           = aws.provider
  name               = "http"
  protocol           = "HTTP"
  service_identifier = aws_vpclattice_service.orders.id
  default_action {
    forward {
      target_groups {
        target_group_identifier = aws_vpclattice_target_group.orders.id
      }
    }
  }
}

resource "aws_vpclattice_service_network_service_association" "orders" {
  provider                   = aws.provider
  service_identifier         = aws_vpclattice_service.orders.arn
  service_network_identifier = aws_vpclattice_service_network.central.arn
}
