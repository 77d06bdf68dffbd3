// albert-tf Android demo: one app module plus the Android-free core it shares with CI.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google() // com.google.mediapipe:tasks-text and androidx live here
        mavenCentral()
    }
}

rootProject.name = "albert-tf-demo"
include(":core", ":app")
