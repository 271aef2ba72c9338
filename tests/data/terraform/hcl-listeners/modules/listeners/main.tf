variable "service_id" { type = string }
variable "listeners" { type = any }
variable "target_groups" { type = map(string) }

resource "aws_vpclattice_listener" "this" {
  for_each           = var.listeners
  name               = each.key
  protocol           = each.value.protocol
  port               = each.value.port
  service_identifier = var.service_id

  dynamic "default_action" {
    for_each = try([each.value.fixed], [])
    content {
      fixed_response {
        status_code = default_action.value.status_code
      }
    }
  }

  dynamic "default_action" {
    for_each = try([each.value.forward], [])
    content {
      forward {
        dynamic "target_groups" {
          for_each = default_action.value.target_groups
          iterator = group
          content {
            target_group_identifier = var.target_groups[group.key]
            weight                  = group.value.weight
          }
        }
      }
    }
  }
}

module "rules" {
  source = "../rules"
  # one call per listener that has rules, keyed like the listeners, holding the listener's own id
  for_each = {
    for k, l in aws_vpclattice_listener.this : k => l.listener_id
    if try(var.listeners[k].rules, null) != null
  }
  listener_id   = each.value
  service_id    = var.service_id
  rules         = var.listeners[each.key].rules
  target_groups = var.target_groups
}
