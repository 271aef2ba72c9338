module "consumer" {
  source   = "./modules/consumer"
  for_each = var.consumer_vpcs
  providers = {
    aws = aws.consumer
  }
  name                = each.key
  cidr                = each.value
  service_network_arn = aws_vpclattice_service_network.central.arn
}

# a VPC that exists already in the consumer account: Terraform looks it up at plan time
data "aws_vpc" "legacy" {
  provider = aws.consumer
  tags     = { Name = "legacy" }
}

resource "aws_vpclattice_service_network_vpc_association" "legacy" {
  provider                   = aws.consumer
  vpc_identifier             = data.aws_vpc.legacy.id
  service_network_identifier = aws_vpclattice_service_network.central.arn
}
