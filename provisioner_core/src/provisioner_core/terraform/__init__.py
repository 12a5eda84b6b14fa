"""Terraform integration: the PRD's order auth -> provisioners -> user hooks -> terraform."""

from provisioner_core.terraform.flow import SUBCOMMANDS, TerraformRun, run_terraform

__all__ = ["SUBCOMMANDS", "TerraformRun", "run_terraform"]
