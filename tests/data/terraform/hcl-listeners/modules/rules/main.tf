variable "listener_id" { type = string }
variable "service_id" { type = string }
variable "rules" { type = any }
variable "target_groups" { type = map(string) }

resource "aws_vpclattice_listener_rule" "this" {
  for_each            = var.rules
  name                = each.key
  listener_identifier = var.listener_id
  service_identifier  = var.service_id
  priority            = each.value.priority

  match {
    http_match {
      dynamic "path_match" {
        for_each = try([each.value.path], [])
        content {
          case_sensitive = false
          match {
            prefix = path_match.value.prefix
          }
        }
      }
      dynamic "header_matches" {
        for_each = try([each.value.header], [])
        content {
          name = header_matches.value.name
          match {
            exact = header_matches.value.exact
          }
        }
      }
    }
  }

  action {
    forward {
      dynamic "target_groups" {
        for_each = each.value.forward.target_groups
        content {
          target_group_identifier = var.target_groups[target_groups.key]
          weight                  = target_groups.value.weight
        }
      }
    }
  }
}
