/**
 * What an AWS region name looks like (`eu-west-1`, `us-gov-west-1`, `cn-north-1`): checked before a
 * region goes into a host name, a config or a unit file. Which regions exist is AWS's to say.
 */
export const AWS_REGION_NAME = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
