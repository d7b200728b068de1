"""``python -m lib deploy`` / ``undeploy``: the product's own deployer over the SCF API (DESIGN §7).

spec        what a stage consists of: names, function settings, triggers (pure)
environment the functions' environment from the deployer's variables and the configuration
package     the code package: build it (``make package`` uses the same code), zip it, digest it
plan        desired state against observed state: create, update, unchanged, delete (pure)
scf         the SCF API calls, with errors that name the CAM action or the role to create
upload      how the code travels: inline ``ZipFile`` or an object in COS
commands    the two commands: observe, plan, print, apply, wait for Active, print the URL
"""
