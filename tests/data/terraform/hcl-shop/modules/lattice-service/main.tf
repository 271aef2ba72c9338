variable "name" { type = string }
variable "port" { type = number }
variable "rules" {
  type = map(object({ priority = number, prefix = string, fixed = optional(number) }))
}
variable "target_count" { type = number }
variable "vpc_id" { type = string }
variable "subnet_cidrs" { type = list(string) }
variable "service_network_id" { type = string }
variable "auth_policy" { type = string }
variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  # target i sits in subnet i % n, at host address 10 + i
  target_ips = [for i in range(var.target_count) :
    cidrhost(var.subnet_cidrs[i % length(var.subnet_cidrs)], 10 + i)]
}

resource "aws_vpclattice_service" "this" {
  name      = var.name
  auth_type = "AWS_IAM"
  tags      = var.tags
}

resource "aws_vpclattice_auth_policy" "this" {
  resource_identifier = aws_vpclattice_service.this.arn
  policy              = var.auth_policy
}

resource "aws_vpclattice_target_group" "this" {
  name = "${var.name}-tg"
  type = "IP"
  config {
    vpc_identifier = var.vpc_id
    protocol       = "HTTP"
    port           = 8080
    health_check {
      enabled = true
      path    = "/healthz"
    }
  }
}

resource "aws_vpclattice_target_group_attachment" "this" {
  for_each                = toset(local.target_ips)
  target_group_identifier = aws_vpclattice_target_group.this.id
  target {
    id   = each.value
    port = 8080
  }
}

resource "aws_vpclattice_listener" "https" {
  name               = "https"
  protocol           = "HTTPS"
  port               = var.port
  service_identifier = aws_vpclattice_service.this.id
  default_action {
    forward {
      target_groups {
        target_group_identifier = aws_vpclattice_target_group.this.id
        weight                  = 100
      }
    }
  }
}

# path rules that forward to the service's target group ...
resource "aws_vpclattice_listener_rule" "forward" {
  for_each            = { for k, r in var.rules : k => r if r.fixed == null }
  name                = each.key
  listener_identifier = aws_vpclattice_listener.https.listener_id
  service_identifier  = aws_vpclattice_service.this.id
  priority            = each.value.priority
  match {
    http_match {
      path_match {
        case_sensitive = false
        match {
          prefix = each.value.prefix
        }
      }
    }
  }
  action {
    forward {
      target_groups {
        target_group_identifier = aws_vpclattice_target_group.this.id
        weight                  = 100
      }
    }
  }
}

# ... and rules that answer by themselves (retired paths)
resource "aws_vpclattice_listener_rule" "fixed" {
  for_each            = { for k, r in var.rules : k => r if r.fixed != null }
  name                = each.key
  listener_identifier = aws_vpclattice_listener.https.listener_id
  service_identifier  = aws_vpclattice_service.this.id
  priority            = each.value.priority
  match {
    http_match {
      method = "GET"
      path_match {
        match {
          prefix = each.value.prefix
        }
      }
    }
  }
  action {
    fixed_response {
      status_code = each.value.fixed
    }
  }
}

resource "aws_vpclattice_service_network_service_association" "this" {
  service_identifier         = aws_vpclattice_service.this.id
  service_network_identifier = var.service_network_id
}

output "service_arn" {
  value = aws_vpclattice_service.this.arn
}
