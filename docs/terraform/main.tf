# Budget alerts on SCF with Terraform: the timer function (every 10 minutes) and the API function behind a
# public Function URL, from the zip `make package` builds. See docs/deployment.md, "Terraform".
#
#   make package
#   cd docs/terraform && terraform init
#   terraform apply -var 'budget_state=cos://<bucket-appid>.<region>/budget-state' -var 'api_token=...' \
#                   -var 'channel_env={WECOM_URL="https://qyapi.weixin.qq.com/..."}'
#
# Written for the tencentcloudstack/tencentcloud provider 1.82 (not applied against a real account here).

terraform {
  required_providers {
    tencentcloud = {
      source  = "tencentcloudstack/tencentcloud"
      version = ">= 1.82.0"
    }
  }
}

provider "tencentcloud" {
  region = var.region # credentials: TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY of the deployer
}

variable "region" {
  type    = string
  default = "ap-guangzhou"
}

variable "stage" {
  type    = string
  default = "prod"
}

variable "package_zip" {
  description = "The code package built by `make package` (6-7 MB; past ~7 MB upload it to COS instead)."
  type        = string
  default     = "../../build/budget-alerts.zip"
}

variable "budget_state" {
  description = "cos://<bucket-appid>.<region>/<prefix>: state every instance shares."
  type        = string
}

variable "api_token" {
  description = "Bearer token(s) for the HTTP API, comma-separated."
  type        = string
  sensitive   = true
}

variable "channel_env" {
  description = "The variables budgets.yaml references (WECOM_URL, DINGTALK_SECRET, ...)."
  type        = map(string)
  default     = {}
  sensitive   = true
}

locals {
  timer_name = "budget-alerts-${var.stage}-timer"
  api_name   = "budget-alerts-${var.stage}-api"
  environment = merge(var.channel_env, {
    BUDGET_CONFIG    = "budgets.yaml" # shipped in the package; or cos://<bucket-appid>.<region>/<key>
    BUDGET_STATE     = var.budget_state
    BUDGET_SITE      = "cn"
    BUDGET_API_TOKEN = var.api_token
  })
}

# The execution role: SCF (carrier scf.qcloud.com) assumes it and hands its temporary keys to the code.
resource "tencentcloud_cam_role" "functions" {
  name          = "BudgetAlertsScfRole"
  console_login = false
  description   = "Budget alerts SCF functions"
  document = jsonencode({
    version = "2.0"
    statement = [{
      action    = "name/sts:AssumeRole"
      effect    = "allow"
      principal = { service = ["scf.qcloud.com"] }
    }]
  })
}

# Attach the functions' policy of docs/deployment.md to this role (tencentcloud_cam_policy +
# tencentcloud_cam_role_policy_attachment); it is left out here because its COS resource names your bucket.

resource "tencentcloud_scf_function" "timer" {
  name     = local.timer_name
  handler  = "timer_handler.main_handler"
  runtime  = "Python3.10"
  mem_size = 128
  timeout  = 120
  role     = tencentcloud_cam_role.functions.name
  zip_file = var.package_zip
  # The timer fans shards out to itself (SCF asynchronous Invoke).
  environment = merge(local.environment, { BUDGET_FANOUT_FUNCTION = local.timer_name })

  triggers {
    name         = "every-10-minutes"
    type         = "timer"
    trigger_desc = "0 */10 * * * * *" # second minute hour day month week year
  }
}

resource "tencentcloud_scf_function" "api" {
  name        = local.api_name
  handler     = "api_handler.main_handler"
  runtime     = "Python3.10"
  mem_size    = 128
  timeout     = 30
  role        = tencentcloud_cam_role.functions.name
  zip_file    = var.package_zip
  environment = local.environment

  # Function URL: public, no CAM auth (the API checks BUDGET_API_TOKEN itself).
  triggers {
    name = "budget-alerts-url"
    type = "http"
    trigger_desc = jsonencode({
      AuthType  = "NONE"
      NetConfig = { EnableIntranet = false, EnableExtranet = true }
    })
  }
}
