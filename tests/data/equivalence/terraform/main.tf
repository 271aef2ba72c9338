# The equivalence topology in Terraform (HCL, read offline by latsim import terraform): the same
# VPCs, security group, service network, services, rules and target groups as ../shop.cfn.yaml.

provider "aws" {
  region = "us-east-1"
}

locals {
  k8s_tags = { K8SServiceNamespace = "shop", K8SClusterName = "app" }
  org_only = {
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "vpc-lattice-svcs:Invoke"
      Resource  = "*"
      Condition = { StringEquals = { "aws:PrincipalOrgID" = "o-shop12345" } }
    }]
  }
  # target group -> its IP targets (the checkout pods of the app cluster, the catalog hosts)
  targets = {
    checkout_v1 = ["10.1.60.173", "10.1.43.181"]
    checkout_v2 = ["10.1.131.174", "10.1.189.205"]
    catalog_v1  = ["10.1.2.10", "10.1.3.10"]
    catalog_v2  = ["10.1.4.10"]
  }
  groups = {
    checkout_v1 = { name = "k8s-shop-checkout-v1-ad10e3ca36", tags = merge(local.k8s_tags, { K8SServiceName = "checkout-v1" }) }
    checkout_v2 = { name = "k8s-shop-checkout-v2-b53cb67371", tags = merge(local.k8s_tags, { K8SServiceName = "checkout-v2" }) }
    catalog_v1  = { name = "catalog-v1", tags = {} }
    catalog_v2  = { name = "catalog-v2", tags = {} }
  }
}

resource "aws_vpc" "web" {
  cidr_block = "10.0.0.0/16"
  tags       = { Name = "web" }
}

resource "aws_subnet" "web" {
  count                = 2
  vpc_id               = aws_vpc.web.id
  cidr_block           = cidrsubnet("10.0.0.0/16", 8, count.index + 1)
  availability_zone_id = "use1-az${count.index + 1}"
}

resource "aws_vpc" "app" {
  cidr_block = "10.1.0.0/16"
  tags       = { Name = "app" }
}

resource "aws_subnet" "app" {
  vpc_id               = aws_vpc.app.id
  cidr_block           = "10.1.0.0/16"
  availability_zone_id = "use1-az1"
}

resource "aws_security_group" "lattice_clients" {
  name        = "lattice-clients"
  description = "who in web may use the service network"
  vpc_id      = aws_vpc.web.id
  ingress {
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/16"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_vpclattice_service_network" "shop" {
  name      = "shop"
  auth_type = "AWS_IAM"
}

resource "aws_vpclattice_auth_policy" "shop" {
  resource_identifier = aws_vpclattice_service_network.shop.arn
  policy              = jsonencode(local.org_only)
}

resource "aws_vpclattice_service_network_vpc_association" "web" {
  service_network_identifier = aws_vpclattice_service_network.shop.id
  vpc_identifier             = aws_vpc.web.id
  security_group_ids         = [aws_security_group.lattice_clients.id]
}

resource "aws_vpclattice_service_network_vpc_association" "app" {
  service_network_identifier = aws_vpclattice_service_network.shop.id
  vpc_identifier             = aws_vpc.app.id
}

resource "aws_vpclattice_target_group" "this" {
  for_each = local.groups
  name     = each.value.name
  type     = "IP"
  tags     = each.value.tags
  config {
    vpc_identifier = aws_vpc.app.id
    protocol       = "HTTP"
    port           = 8080
    health_check {
      enabled = true
    }
  }
}

resource "aws_vpclattice_target_group_attachment" "this" {
  for_each                = { for pair in flatten([for tg, ips in local.targets : [for ip in ips : { tg = tg, ip = ip }]]) : "${pair.tg}/${pair.ip}" => pair }
  target_group_identifier = aws_vpclattice_target_group.this[each.value.tg].id
  target {
    id   = each.value.ip
    port = 8080
  }
}

resource "aws_vpclattice_service" "checkout" {
  name               = "checkout-shop"
  auth_type          = "NONE"
  custom_domain_name = "checkout.shop.internal"
}

resource "aws_vpclattice_service_network_service_association" "checkout" {
  service_identifier         = aws_vpclattice_service.checkout.id
  service_network_identifier = aws_vpclattice_service_network.shop.id
}

resource "aws_vpclattice_listener" "checkout" {
  name               = "checkout-shop-80-http"
  protocol           = "HTTP"
  port               = 80
  service_identifier = aws_vpclattice_service.checkout.id
  default_action {
    fixed_response {
      status_code = 404
    }
  }
}

resource "aws_vpclattice_listener_rule" "api" {
  name                = "rule-0"
  listener_identifier = aws_vpclattice_listener.checkout.listener_id
  service_identifier  = aws_vpclattice_service.checkout.id
  priority            = 1
  match {
    http_match {
      path_match {
        match {
          prefix = "/api"
        }
      }
    }
  }
  action {
    forward {
      target_groups {
        target_group_identifier = aws_vpclattice_target_group.this["checkout_v2"].id
        weight                  = 1
      }
    }
  }
}

resource "aws_vpclattice_listener_rule" "canary" {
  name                = "rule-1"
  listener_identifier = aws_vpclattice_listener.checkout.listener_id
  service_identifier  = aws_vpclattice_service.checkout.id
  priority            = 2
  match {
    http_match {
      path_match {
        match {
          prefix = "/"
        }
      }
    }
  }
  action {
    forward {
      target_groups {
        target_group_identifier = aws_vpclattice_target_group.this["checkout_v1"].id
        weight                  = 90
      }
      target_groups {
        target_group_identifier = aws_vpclattice_target_group.this["checkout_v2"].id
        weight                  = 10
      }
    }
  }
}

resource "aws_vpclattice_service" "catalog" {
  name      = "catalog-shop"
  auth_type = "NONE"
}

resource "aws_vpclattice_service_network_service_association" "catalog" {
  service_identifier         = aws_vpclattice_service.catalog.id
  service_network_identifier = aws_vpclattice_service_network.shop.id
}

resource "aws_vpclattice_listener" "catalog" {
  name               = "catalog-shop-80-http"
  protocol           = "HTTP"
  port               = 80
  service_identifier = aws_vpclattice_service.catalog.id
  default_action {
    forward {
      target_groups {
        target_group_identifier = aws_vpclattice_target_group.this["catalog_v1"].id
        weight                  = 80
      }
      target_groups {
        target_group_identifier = aws_vpclattice_target_group.this["catalog_v2"].id
        weight                  = 20
      }
    }
  }
}
