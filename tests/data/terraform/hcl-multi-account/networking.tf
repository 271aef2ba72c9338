resource "aws_vpclattice_service_network" "central" {
  provider  = aws.networking
  name      = "central"
  auth_type = "NONE"
}

resource "aws_ram_resource_share" "central" {
  provider                  = aws.networking
  name                      = "central-service-network"
  allow_external_principals = false
}

resource "aws_ram_resource_association" "central" {
  provider           = aws.networking
  resource_share_arn = aws_ram_resource_share.central.arn
  resource_arn       = aws_vpclattice_service_network.central.arn
}

resource "aws_ram_principal_association" "shared" {
  for_each           = toset([var.accounts.provider, var.accounts.consumer])
  provider           = aws.networking
  resource_share_arn = aws_ram_resource_share.central.arn
  principal          = each.value
}
