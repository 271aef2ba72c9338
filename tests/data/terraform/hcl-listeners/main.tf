# A service described as data and built by generic modules (the style of the public Lattice
# Terraform modules): listeners and rules come from maps through dynamic blocks, also inside nested
# blocks, and the rules module is called once per listener, keyed by the listener's own id.

variable "listeners" {
  type = any
  default = {
    web = {
      protocol = "HTTP"
      port     = 80
      fixed    = { status_code = 404 }
      rules = {
        api = {
          priority = 10
          path     = { prefix = "/api" }
          forward  = { target_groups = { blue = { weight = 90 }, green = { weight = 10 } } }
        }
        beta = {
          priority = 20
          header   = { name = "x-beta", exact = "1" }
          forward  = { target_groups = { green = { weight = 1 } } }
        }
      }
    }
    secure = {
      protocol = "HTTPS"
      port     = 443
      forward  = { target_groups = { blue = { weight = 1 } } }
    }
  }
}

variable "target_groups" {
  type = any
  default = {
    blue  = { type = "IP", port = 8080 }
    green = { type = "IP", port = 8080 }
    fn    = { type = "LAMBDA" }
  }
}

resource "aws_vpc" "app" {
  cidr_block = "10.40.0.0/16"
  tags       = { Name = "app" }
}

resource "aws_vpclattice_service" "orders" {
  name      = "orders"
  auth_type = "NONE"
}

resource "aws_vpclattice_target_group" "ip" {
  for_each = { for k, tg in var.target_groups : k => tg if tg.type != "LAMBDA" }
  name     = each.key
  type     = each.value.type
  config {
    port           = each.value.port
    protocol       = "HTTP"
    vpc_identifier = aws_vpc.app.id
  }
}

resource "aws_vpclattice_target_group" "lambda" {
  for_each = { for k, tg in var.target_groups : k => tg if tg.type == "LAMBDA" }
  name     = each.key
  type     = "LAMBDA"
}

module "listeners" {
  source        = "./modules/listeners"
  service_id    = aws_vpclattice_service.orders.id
  listeners     = var.listeners
  target_groups = merge({ for k, tg in aws_vpclattice_target_group.ip : k => tg.id },
                        { for k, tg in aws_vpclattice_target_group.lambda : k => tg.id })
}

resource "aws_vpclattice_service_network" "net" {
  name = "apps"
}

resource "aws_vpclattice_service_network_service_association" "orders" {
  service_identifier         = aws_vpclattice_service.orders.id
  service_network_identifier = aws_vpclattice_service_network.net.id
}

resource "aws_vpclattice_service_network_vpc_association" "app" {
  vpc_identifier             = aws_vpc.app.id
  service_network_identifier = aws_vpclattice_service_network.net.id
}

resource "aws_vpclattice_target_group_attachment" "blue" {
  for_each                = toset(["10.40.1.10", "10.40.2.10"])
  target_group_identifier = aws_vpclattice_target_group.ip["blue"].id
  target {
    id   = each.key
    port = 8080
  }
}
