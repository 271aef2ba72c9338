variable "accounts" {
  type = object({ networking = string, provider = string, consumer = string })
  default = {
    networking = "222222222222"
    provider   = "333333333333"
    consumer   = "444444444444"
  }
}

variable "consumer_vpcs" {
  type = map(string)
  default = {
    web   = "10.1.0.0/16"
    batch = "10.2.0.0/16"
  }
}
