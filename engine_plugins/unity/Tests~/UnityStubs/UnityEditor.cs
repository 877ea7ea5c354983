// Compile-only stand-ins for the UnityEditor API the package's Editor assembly uses, with Unity's
// signatures (see UnityEngine.cs). Nothing here runs.
using System;
using UnityEngine;

namespace UnityEditor
{
    public class Editor : ScriptableObject
    {
        public UnityEngine.Object target { get { return null; } }

        public virtual void OnInspectorGUI() { }

        public virtual bool RequiresConstantRepaint() { return false; }

        public bool DrawDefaultInspector() { return true; }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class CustomEditor : Attribute
    {
        public CustomEditor(Type inspectedType) { }
    }

    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
    public sealed class MenuItem : Attribute
    {
        public MenuItem(string itemName, bool isValidateFunction, int priority) { }

        public MenuItem(string itemName, bool isValidateFunction) { }
    }

    public sealed class MenuCommand
    {
        public UnityEngine.Object context;
    }

    public static class Selection
    {
        public static GameObject activeGameObject { get { return null; } }

        public static GameObject[] gameObjects { get { return null; } }
    }

    public static class Undo
    {
        public static void SetCurrentGroupName(string name) { }

        public static int GetCurrentGroup() { return 0; }

        public static void CollapseUndoOperations(int groupIndex) { }

        public static void RecordObject(UnityEngine.Object objectToUndo, string name) { }

        public static T AddComponent<T>(GameObject gameObject) where T : Component { return null; }
    }

    public static class EditorUtility
    {
        public static void SetDirty(UnityEngine.Object target) { }
    }

    public static class PrefabUtility
    {
        public static void RecordPrefabInstancePropertyModifications(UnityEngine.Object targetObject) { }
    }

    public enum MessageType
    {
        None,
        Info,
        Warning,
        Error,
    }

    public static class EditorStyles
    {
        public static GUIStyle boldLabel { get { return null; } }

        public static GUIStyle wordWrappedMiniLabel { get { return null; } }
    }

    public static class EditorGUIUtility
    {
        public static float singleLineHeight { get { return 18f; } }
    }

    public static class EditorGUI
    {
        public static void ProgressBar(Rect position, float value, string text) { }
    }

    public static class EditorGUILayout
    {
        public static void Space() { }

        public static void LabelField(string label, params GUILayoutOption[] options) { }

        public static void LabelField(string label, GUIStyle style, params GUILayoutOption[] options) { }

        public static void LabelField(string label, string label2, params GUILayoutOption[] options) { }

        public static void LabelField(string label, string label2, GUIStyle style, params GUILayoutOption[] options) { }

        public static void HelpBox(string message, MessageType type) { }

        public static bool Foldout(bool foldout, string content, bool toggleOnLabelClick) { return foldout; }

        public static Rect GetControlRect(bool hasLabel, float height, params GUILayoutOption[] options) { return default(Rect); }

        public class HorizontalScope : IDisposable
        {
            public HorizontalScope(params GUILayoutOption[] options) { }

            public void Dispose() { }
        }
    }
}
