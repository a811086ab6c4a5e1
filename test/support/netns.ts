// The namespace runner lives with the tools, which use it too (the acquisition benchmark).
export { namespaceUnavailable, runNodeInNamespace, type NamespaceRun } from '../../tools/netns';
