# Three accounts, one Terraform root (the layout of AWS's multi-account Lattice samples):
# the networking account owns the service network and shares it with RAM; the provider account
# owns the service; the consumer account associates its VPCs.
provider "aws" {
  region = "us-east-1"
  alias  = "networking"
  assume_role {
    role_arn = "arn:aws:iam::${var.accounts.networking}:role/terraform"
  }
}

provider "aws" {
  region = "us-east-1"
  alias  = "provider"
  assume_role {
    role_arn = "arn:aws:iam::${var.accounts.provider}:role/terraform"
  }
}

provider "aws" {
  region = "us-east-1"
  alias  = "consumer"
  assume_role {
    role_arn = "arn:aws:iam::${var.accounts.consumer}:role/terraform"
  }
}
