# A shop on VPC Lattice: one service network, a consumer VPC, a provider VPC, and one Lattice
# service per entry of var.services, each built by the local module ./modules/lattice-service
# (listener rules with for_each, IP targets, an auth policy from aws_iam_policy_document).

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "env" {
  type    = string
  default = "dev"
}

variable "vpc_cidrs" {
  type = map(string)
  default = {
    consumer = "10.10.0.0/16"
    provider = "10.20.0.0/16"
  }
}

variable "az_count" {
  type    = number
  default = 2
}

variable "org_id" {
  type    = string
  default = "o-shop12345"
}

variable "services" {
  description = "Lattice services and their path rules"
  type = map(object({
    port    = number
    targets = number
    rules   = map(object({ priority = number, prefix = string, fixed = optional(number) }))
  }))
  default = {
    checkout = {
      port    = 443
      targets = 2
      rules = {
        api    = { priority = 10, prefix = "/api" }
        health = { priority = 20, prefix = "/healthz" }
      }
    }
    catalog = {
      port    = 443
      targets = 3
      rules = {
        legacy = { priority = 10, prefix = "/v1", fixed = 404 }
      }
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_availability_zones" "available" {
  state = "available"
}
data "aws_ec2_managed_prefix_list" "lattice" {
  name = "com.amazonaws.${var.region}.vpc-lattice"
}

locals {
  name = "shop-${var.env}"
  tags = merge({ Project = "shop" }, { Environment = var.env })
  azs  = slice(data.aws_availability_zones.available.names, 0, var.az_count)
}

resource "aws_vpc" "this" {
  for_each   = var.vpc_cidrs
  cidr_block = each.value
  tags       = merge(local.tags, { Name = "${local.name}-${each.key}" })
}

resource "aws_subnet" "consumer" {
  count             = var.az_count
  vpc_id            = aws_vpc.this["consumer"].id
  cidr_block        = cidrsubnet(var.vpc_cidrs["consumer"], 8, count.index)
  availability_zone = local.azs[count.index]
}

resource "aws_subnet" "provider" {
  count             = var.az_count
  vpc_id            = aws_vpc.this["provider"].id
  cidr_block        = cidrsubnet(var.vpc_cidrs["provider"], 8, count.index)
  availability_zone = local.azs[count.index]
}

resource "aws_security_group" "association" {
  name   = "${local.name}-lattice-association"
  vpc_id = aws_vpc.this["consumer"].id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidrs["consumer"]]
  }
}

resource "aws_security_group" "targets" {
  name   = "${local.name}-targets"
  vpc_id = aws_vpc.this["provider"].id
  ingress {
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    prefix_list_ids = [data.aws_ec2_managed_prefix_list.lattice.id]
  }
}

resource "aws_vpclattice_service_network" "this" {
  name      = local.name
  auth_type = "AWS_IAM"
  tags      = local.tags
}

resource "aws_vpclattice_auth_policy" "network" {
  resource_identifier = aws_vpclattice_service_network.this.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "vpc-lattice-svcs:Invoke"
      Resource  = "*"
      Condition = { StringEquals = { "aws:PrincipalOrgID" = var.org_id } }
    }]
  })
}

resource "aws_vpclattice_service_network_vpc_association" "consumer" {
  service_network_identifier = aws_vpclattice_service_network.this.id
  vpc_identifier             = aws_vpc.this["consumer"].id
  security_group_ids         = [aws_security_group.association.id]
}

data "aws_iam_policy_document" "invoke" {
  statement {
    sid     = "OrgOnly"
    effect  = "Allow"
    actions = ["vpc-lattice-svcs:Invoke"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
    resources = ["*"]
  }
}

module "service" {
  source   = "./modules/lattice-service"
  for_each = var.services

  name               = "${each.key}-${var.env}"
  port               = each.value.port
  rules              = each.value.rules
  target_count       = each.value.targets
  vpc_id             = aws_vpc.this["provider"].id
  subnet_cidrs       = aws_subnet.provider[*].cidr_block
  service_network_id = aws_vpclattice_service_network.this.id
  auth_policy        = data.aws_iam_policy_document.invoke.json
  tags               = local.tags
}
